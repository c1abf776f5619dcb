import pino, { type Logger } from 'pino';

/**
 * Secrets and tokens never reach a log line: these paths are censored wherever they appear,
 * and carrier errors are built without request bodies or headers in the first place.
 */
export const REDACT_PATHS = [
  'client_secret',
  'clientSecret',
  'secret',
  'password',
  'access_token',
  'accessToken',
  'token',
  'authorization',
  'Authorization',
  '*.client_secret',
  '*.clientSecret',
  '*.secret',
  '*.password',
  '*.access_token',
  '*.accessToken',
  '*.token',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'req.headers.authorization',
  'request.headers.authorization',
];

export interface LoggerOptions {
  level?: string;
  format?: 'json' | 'pretty';
  destination?: pino.DestinationStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  // Level and format come from the configuration (LOG_LEVEL, LOG_FORMAT) through the caller.
  const level = opts.level ?? 'info';
  const pretty = (opts.format ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'pretty';
  const base = { level, redact: { paths: REDACT_PATHS, censor: '[REDACTED]' }, base: { service: 'csp-billing' } };
  if (opts.destination) return pino(base, opts.destination);
  if (pretty)
    return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true } } });
  // JSON to stderr: stdout is reserved for command output (summaries, --json listings).
  return pino(base, pino.destination(2));
}
