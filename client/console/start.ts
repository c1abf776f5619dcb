import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../../config';
import type { Pool } from '../../db/pool';
import { ensureInitialAdmin } from './auth';
import { startConsole, type RunningConsole } from './server';

/**
 * The console as `npm start` runs it: on CONSOLE_HOST:CONSOLE_PORT (127.0.0.1:8080 by default;
 * CONSOLE_PORT=0 runs none), with a first admin created when there is no user.
 */
export async function startSystemConsole(
  cfg: Config,
  deps: { pool: Pool; temporal: Client; temporalUiUrl: string | null },
  log: Logger,
): Promise<RunningConsole | null> {
  if (cfg.CONSOLE_PORT === 0) return null;
  await ensureInitialAdmin(deps.pool, cfg.DATA_DIR, log);
  const running = await startConsole(
    {
      pool: deps.pool,
      temporal: deps.temporal,
      taskQueue: cfg.TASK_QUEUE,
      namespace: cfg.TEMPORAL_NAMESPACE,
      temporalUiUrl: cfg.TEMPORAL_UI_URL ?? deps.temporalUiUrl,
      log,
    },
    { port: cfg.CONSOLE_PORT, host: cfg.CONSOLE_HOST },
    {
      secureCookies: cfg.CONSOLE_SECURE_COOKIES,
      loginAttemptsPerMinute: cfg.CONSOLE_LOGIN_ATTEMPTS_PER_MINUTE,
      loginAttemptsPerAddressPerMinute: cfg.CONSOLE_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE,
      trustedProxies: cfg.CONSOLE_TRUSTED_PROXY,
    },
  ).catch((err: Error & { code?: string }) => {
    if (err.code === 'EADDRINUSE')
      throw new Error(
        `web console: port ${cfg.CONSOLE_PORT} on ${cfg.CONSOLE_HOST} is in use: set CONSOLE_PORT to a free port (or 0 for no console)`,
      );
    throw err;
  });
  log.info({ console: running.url }, 'web console running');
  return running;
}
