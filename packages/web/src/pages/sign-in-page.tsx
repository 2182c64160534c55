/** Signing in with a username and password; the token is kept in memory (api.ts). */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, sessionChanged, signIn } from '../api.js';
import { navigate } from '../router.js';
import { session } from '../session.js';

export function SignInPage({ next }: { next: string }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = 'Sign in - Packyard catalog';
  }, []);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      session.me = await signIn(username.trim(), password);
      sessionChanged();
      navigate(next, { replace: true });
    } catch (err) {
      setError(
        err instanceof ApiError
          ? `${err.message}${err.hint ? ` (${err.hint})` : ''}`
          : 'The registry could not be reached.',
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="signin" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in</h1>
      <p class="muted">Your tenant's and projects' registries appear once you are signed in.</p>
      <form onSubmit={(event) => void submit(event)}>
        <Field label="Username" name="username" autoComplete="username" value={username} onInput={setUsername} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onInput={setPassword}
        />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in...' : 'Sign in'}
        </button>
      </form>
    </section>
  );
}

function Field(props: {
  label: string;
  name: string;
  type?: string;
  autoComplete: string;
  value: string;
  onInput: (value: string) => void;
}) {
  return (
    <label>
      {props.label}
      <input
        name={props.name}
        type={props.type ?? 'text'}
        autoComplete={props.autoComplete}
        required
        value={props.value}
        onInput={(event) => props.onInput(event.currentTarget.value)}
      />
    </label>
  );
}
