import { readFileSync } from 'node:fs';
import { UserError } from './errors';

/** The environment variable read when no other source of the secret is named. */
export const DEFAULT_SECRET_ENV = 'RHIPE_CLIENT_SECRET';

export interface SecretSources {
  clientSecretEnv?: string;
  clientSecretStdin?: boolean;
}

interface Io {
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadStream;
  stderr: NodeJS.WriteStream;
}

/**
 * The client secret never comes from the command line (npm prints the command in its banner and
 * every process in the chain carries it in its argv). In order: `--client-secret-env VAR`,
 * `--client-secret-stdin`, the RHIPE_CLIENT_SECRET variable, a hidden prompt on a terminal.
 */
export async function readClientSecret(
  o: SecretSources,
  io: Io = { env: process.env, stdin: process.stdin, stderr: process.stderr },
): Promise<string> {
  if (o.clientSecretEnv !== undefined && o.clientSecretStdin)
    throw new UserError('give the client secret once: --client-secret-env VAR or --client-secret-stdin, not both');
  if (o.clientSecretEnv !== undefined) {
    const v = io.env[o.clientSecretEnv];
    if (!v) throw new UserError(`environment variable ${o.clientSecretEnv} is not set`);
    return v.trim();
  }
  if (o.clientSecretStdin) return readFileSync((io.stdin as { fd?: number }).fd ?? 0, 'utf8').trim();
  const fromEnv = io.env[DEFAULT_SECRET_ENV];
  if (fromEnv) return fromEnv.trim();
  if (io.stdin.isTTY) return promptHidden('Rhipe client_secret (not shown): ', io.stdin, io.stderr);
  throw new UserError(
    `no client secret: set ${DEFAULT_SECRET_ENV}, or use --client-secret-env VAR or --client-secret-stdin (or run on a terminal to be asked)`,
  );
}

/** Reads one line from a terminal without echoing it. Ctrl-C aborts, Backspace erases. */
export function promptHidden(
  question: string,
  input: NodeJS.ReadStream,
  output: NodeJS.WritableStream,
): Promise<string> {
  return new Promise((resolve, reject) => {
    output.write(question);
    const wasRaw = input.isRaw;
    input.setRawMode?.(true);
    input.resume();
    input.setEncoding('utf8');
    let value = '';
    const done = (err?: Error) => {
      input.off('data', onData);
      input.setRawMode?.(wasRaw ?? false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value.trim());
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new UserError('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    input.on('data', onData);
  });
}
