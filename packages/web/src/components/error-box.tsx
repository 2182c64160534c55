/** An error as the visitor sees it: the registry's status, message and hint. */
import { ApiError } from '../api.js';

export function ErrorBox({ error }: { error: Error }) {
  return (
    <div class="error-box" role="alert">
      <h2>{error instanceof ApiError ? `The registry answered ${error.status}` : 'Something went wrong'}</h2>
      <p>{error.message}</p>
      {error instanceof ApiError && error.hint && <p class="muted">{error.hint}</p>}
    </div>
  );
}
