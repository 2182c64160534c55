/**
 * The server's pino logger: JSON lines, secrets redacted wherever they could appear (request
 * headers, S3 credentials in errors). Request loggers are children carrying the request id.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/config.js';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.secretAccessKey',
  '*.passwordHash',
  '*.secretSha256',
  '*.accessKeyId',
  '*.adminToken',
  '*.password',
  '*.token',
  // The OCI token endpoint's answer and OAuth2 form (routes/oci-token.ts).
  '*.access_token',
  '*.refresh_token',
];

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'pack-registry' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  // Asynchronous stdout: lines are batched while a write is in flight instead of a write(2) per
  // request line on the request's own time. pino flushes it when the process exits.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false }));
}
