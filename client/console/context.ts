import type { FastifyRequest } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Pool } from '../../db/pool';
import type { Flash, SessionUser } from '../../db/console-sessions';

/** What the console's server and its routes share (kept apart from server.ts, which imports the routes). */
export interface ConsoleDeps {
  pool: Pool;
  temporal: Client;
  taskQueue: string;
  namespace: string;
  /** The Temporal Web UI's base URL, for links; null hides them. */
  temporalUiUrl: string | null;
  log: Logger;
}

export interface ConsoleOptions {
  /** Adds `Secure` to cookies: set when the console is served over HTTPS (behind a proxy). */
  secureCookies?: boolean;
  /** Failed sign-ins per user name in the window (one minute): then that user waits, whoever asks. */
  loginAttemptsPerMinute?: number;
  /** Failed sign-ins per client address in the window: far more, as a proxy's users share one address. */
  loginAttemptsPerAddressPerMinute?: number;
  /**
   * Addresses of reverse proxies whose X-Forwarded-For names the client (CONSOLE_TRUSTED_PROXY).
   * Empty: the client is the connection's address, and the header is ignored.
   */
  trustedProxies?: string[];
  /** The window those attempts are counted in, in ms (one minute; tests on a loaded machine stretch it). */
  loginWindowMs?: number;
  sessionIdleMinutes?: number;
  sessionMaxHours?: number;
}

export interface ConsoleSession {
  user: SessionUser;
  tokenHash: string;
  csrf: string;
}

export interface ConsoleContext {
  deps: ConsoleDeps;
  opts: Required<ConsoleOptions>;
  flash(request: FastifyRequest, flash: Flash): Promise<void>;
  /** Link to a workflow in the Temporal Web UI, or null when the UI is not known. */
  workflowLink(workflowId: string): string | null;
}

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The current query with some keys replaced: for filters and pagers. */
export function queryString(current: Record<string, unknown>, changes: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...current, ...changes })) {
    if (v !== undefined && v !== null && v !== '') params.set(k, `${v as string | number | boolean}`);
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}
