import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';

/**
 * One child process kept alive: started (and ready) by `start`, restarted with exponential backoff
 * whenever it exits on its own, each restart logged at warn level. `stop` ends supervision and the
 * child. Used by `npm start` (workers/system.ts) for the worker, the embedded PostgreSQL and the
 * Temporal dev server.
 */
export interface Supervised {
  readonly name: string;
  /** The running child, if any (undefined while it is being restarted). */
  current(): ChildProcess | undefined;
  restarts(): number;
  stop(): Promise<void>;
}

export interface SuperviseOptions {
  name: string;
  log: Logger;
  /** Starts the child and resolves once it is ready (throws if it cannot start). */
  start: () => Promise<ChildProcess>;
  /** Stops a running child (graceful first). */
  stop: (child: ChildProcess) => Promise<void>;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A child that stayed up this long starts the backoff afresh after its next exit. */
  healthyAfterMs?: number;
}

export async function supervise(opts: SuperviseOptions): Promise<Supervised> {
  const initial = opts.initialBackoffMs ?? 1000;
  const max = opts.maxBackoffMs ?? 30_000;
  const healthyAfter = opts.healthyAfterMs ?? 60_000;
  let child: ChildProcess | undefined;
  let stopped = false;
  let restarts = 0;
  let backoff = initial;
  let wake: (() => void) | undefined;
  let restarting: Promise<void> | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const watch = (c: ChildProcess, startedAt: number) => {
    c.once('exit', (code, signal) => {
      if (child === c) child = undefined;
      if (stopped) return;
      if (Date.now() - startedAt > healthyAfter) backoff = initial;
      restarting = restartLoop({ code, signal });
    });
  };

  const restartLoop = async (exit: { code: number | null; signal: NodeJS.Signals | null }) => {
    for (;;) {
      restarts++;
      opts.log.warn(
        { child: opts.name, exitCode: exit.code, signal: exit.signal, restart: restarts, inMs: backoff },
        `${opts.name} exited; restarting in ${backoff} ms`,
      );
      await sleep(backoff);
      backoff = Math.min(backoff * 2, max);
      if (stopped) return;
      try {
        const c = await opts.start();
        if (stopped) {
          await opts.stop(c);
          return;
        }
        child = c;
        watch(c, Date.now());
        opts.log.warn({ child: opts.name, pid: c.pid, restart: restarts }, `${opts.name} restarted`);
        return;
      } catch (err) {
        opts.log.warn({ child: opts.name, err: (err as Error).message }, `${opts.name} could not be restarted`);
        exit = { code: null, signal: null };
      }
    }
  };

  child = await opts.start();
  watch(child, Date.now());
  return {
    name: opts.name,
    current: () => child,
    restarts: () => restarts,
    async stop() {
      stopped = true;
      wake?.();
      await restarting;
      if (child) await opts.stop(child);
    },
  };
}

/** Sends `signal`, waits for the exit, and kills the child outright after `timeoutMs`. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
    setTimeout(() => child.kill('SIGKILL'), timeoutMs).unref();
  });
}
