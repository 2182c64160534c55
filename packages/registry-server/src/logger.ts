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
  '*.accessKeyId',
  '*.adminToken',
  '*.password',
  '*.token',
];

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'pack-registry' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
