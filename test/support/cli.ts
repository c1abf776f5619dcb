import { spawn, type ChildProcess } from 'node:child_process';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { PROJECT_ROOT } from '../../config';
import type { TestSystem } from './system';

/** The environment that points a `csp` CLI process at a test system (its database, Temporal, task queue, key, carrier). */
export function cliEnv(
  sys: TestSystem,
  env: TestWorkflowEnvironment,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const key = (sys.deps.keyring as unknown as { keys: Map<string, Buffer> }).keys.get(sys.deps.keyring.currentKeyId)!;
  return {
    ...process.env,
    DATABASE_URL: sys.db.url,
    TEMPORAL_ADDRESS: env.connection.options.address ?? '',
    TASK_QUEUE: sys.taskQueue,
    ENCRYPTION_KEY: key.toString('base64'),
    ENCRYPTION_KEY_ID: sys.deps.keyring.currentKeyId,
    RHIPE_IDENTITY_URL: sys.sim.url,
    RHIPE_API_URL: sys.sim.url,
    ...extra,
  };
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'client/cli.ts', ...args], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs the CLI to its end: exit code, stdout, stderr. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawnCli(args, env);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  // 'close', not 'exit': at 'exit' the pipes may still hold the last of the output.
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}
