/** Loads something for a page: loading, then the value or the error; a change of `deps` aborts and reloads. */
import { useEffect, useState } from 'preact/hooks';

export type Load<T> = { kind: 'loading' } | { kind: 'done'; value: T } | { kind: 'error'; error: Error };

export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Load<T> {
  const [state, setState] = useState<Load<T>>({ kind: 'loading' });
  useEffect(() => {
    const controller = new AbortController();
    setState({ kind: 'loading' });
    load(controller.signal).then(
      (value) => {
        if (!controller.signal.aborted) setState({ kind: 'done', value });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) {
          setState({ kind: 'error', error: error instanceof Error ? error : new Error(String(error)) });
        }
      },
    );
    return () => controller.abort();
  }, deps);
  return state;
}
