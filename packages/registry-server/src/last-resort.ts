/**
 * The last resort of `pack-registry serve` for an error nothing else handled (an exception thrown
 * from an event handler, a rejected promise nobody awaited). Node's default is to exit, which
 * drops every request in flight, every other client's included, for what is nearly always the
 * fault of one request or one background task. Instead the error is logged at error level, with
 * its stack, and the process keeps serving.
 *
 * Repeated failures mean something is broken beyond one request (a corrupted state, a resource
 * exhausted): past `maxErrors` within `windowMs`, the process shuts down gracefully (in-flight
 * requests finish, within the shutdown timeout) and exits with EXIT_CODE, for its supervisor
 * (systemd, Kubernetes) to start a fresh one.
 */
import type { Logger } from 'pino';

/** EX_SOFTWARE (sysexits.h): an internal software error. */
export const EXIT_CODE = 70;

export interface LastResortOptions {
  logger: Logger;
  /** Called once when the failures repeat: shut down gracefully, then exit with EXIT_CODE. */
  onRepeatedFailures: () => void;
  /** Default 10. */
  maxErrors?: number;
  /** Default 60 s. */
  windowMs?: number;
  /** The emitter of 'uncaughtException' and 'unhandledRejection'; default `process`. */
  target?: NodeJS.EventEmitter;
}

/** Installs the handlers; returns a function that removes them. */
export function installLastResort(options: LastResortOptions): () => void {
  const { logger, onRepeatedFailures } = options;
  const maxErrors = options.maxErrors ?? 10;
  const windowMs = options.windowMs ?? 60_000;
  const target = options.target ?? process;
  const recent: number[] = [];
  let givenUp = false;

  const failed = (err: unknown, kind: string): void => {
    const now = Date.now();
    recent.push(now);
    while (recent.length > 0 && (recent[0] ?? now) <= now - windowMs) recent.shift();
    const error = err instanceof Error ? err : new Error(`non-error value: ${String(err)}`);
    logger.error({ err: error, kind }, `${kind}: ${error.message} (the registry keeps serving other requests)`);
    if (givenUp || recent.length <= maxErrors) return;
    givenUp = true;
    logger.fatal(
      { errors: recent.length, windowMs },
      `${recent.length} unhandled errors within ${windowMs} ms: shutting down to be restarted (exit code ${EXIT_CODE})`,
    );
    onRepeatedFailures();
  };
  const onException = (err: unknown): void => {
    failed(err, 'uncaught exception');
  };
  const onRejection = (reason: unknown): void => {
    failed(reason, 'unhandled promise rejection');
  };
  target.on('uncaughtException', onException);
  target.on('unhandledRejection', onRejection);
  return () => {
    target.off('uncaughtException', onException);
    target.off('unhandledRejection', onRejection);
  };
}
