import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Logger } from 'pino';
import { alertChannels, carrierUrls, reconciliationTiming, type Config } from '../config';
import { keyringFromConfig } from '../config/secrets';
import { temporalTls } from '../config/temporal-tls';
import { assertDatabaseAnswers, createPool, type Pool } from '../db/pool';
import { threadPageSaver } from '../db/page-saver';
import { FETCH_SLOTS, SAVES_IN_FLIGHT } from '../activities/usage';
import { verifyKeyring } from '../db/encryption-keys';
import { ensureEmbeddedDatabase, prepareEmbeddedPostgres, spawnPostgres, stopPostgres } from '../db/embedded';
import { migrateAndGrant } from '../db/roles';
import { stopChild, supervise } from './supervise';
import { migrateUp } from '../db/migrate';
import { ensureNamespaceAndSearchAttributes, startDevServer } from './temporal-server';
import type { ActivityDeps } from '../activities/deps';
import path from 'node:path';

/** Everything the system needs, started (or connected to) in one place, stopped in reverse. */
export interface Runtime {
  cfg: Config;
  pool: Pool;
  /** The application role's URL (the pool's). */
  databaseUrl: string;
  temporalAddress: string;
  uiUrl: string | null;
  client: Client;
  /** The worker polls on it and the activities' client calls Temporal over it: stop() closes it, once the worker has stopped. */
  connection: NativeConnection;
  deps: ActivityDeps;
  stop(): Promise<void>;
}

/** The database's two URLs: the owner's (migrations) and the application role's (everything else). */
export interface DatabaseUrls {
  ownerUrl: string;
  appUrl: string;
}

export interface StartOptions {
  /** Restart the embedded server or dev server with backoff whenever it dies (`npm start`). */
  supervise?: Logger;
}

/**
 * PostgreSQL: DATABASE_URL (and DATABASE_OWNER_URL for migrations, when set), or the embedded
 * server in DATA_DIR with its owner and application roles (db/embedded.ts). The one place the
 * system, a worker and `npm run migrate` start or find their database.
 */
export async function startDatabase(
  cfg: Config,
  log: Logger,
  opts: StartOptions = {},
): Promise<DatabaseUrls & { stop: () => Promise<void> }> {
  if (cfg.DATABASE_URL) {
    const ownerUrl = cfg.DATABASE_OWNER_URL ?? cfg.DATABASE_URL;
    await assertDatabaseAnswers(cfg.DATABASE_URL, cfg.DB_CONNECT_TIMEOUT_MS);
    if (ownerUrl !== cfg.DATABASE_URL) await assertDatabaseAnswers(ownerUrl, cfg.DB_CONNECT_TIMEOUT_MS);
    return { ownerUrl, appUrl: cfg.DATABASE_URL, stop: async () => undefined };
  }
  const cluster = await prepareEmbeddedPostgres(cfg.DATA_DIR, cfg.EMBEDDED_PG_PORT);
  let stop: () => Promise<void>;
  let pid: number | undefined;
  if (opts.supervise) {
    const postgres = await supervise({
      name: 'postgres',
      log: opts.supervise,
      start: () => spawnPostgres(cluster),
      stop: (c) => stopPostgres(c),
    });
    stop = () => postgres.stop();
    pid = postgres.current()?.pid;
  } else {
    const child = await spawnPostgres(cluster);
    stop = () => stopPostgres(child);
    pid = child.pid;
  }
  log.info({ port: cfg.EMBEDDED_PG_PORT, dataDir: cluster.pgData, pid }, 'embedded PostgreSQL running');
  try {
    const urls = await ensureEmbeddedDatabase(cfg.DATA_DIR, cfg.EMBEDDED_PG_PORT, cluster.password, 'csp');
    return { ownerUrl: urls.ownerUrl, appUrl: urls.appUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Pending migrations as the owner, then the application role's grants (db/roles.ts). */
export async function migrateDatabase(db: DatabaseUrls, cfg: Config, log: Logger): Promise<void> {
  const applied = await migrateAndGrant(db, (url) => migrateUp(url, undefined, cfg.DB_CONNECT_TIMEOUT_MS));
  if (applied.length) log.info({ applied }, 'database migrated');
}

/** Temporal: TEMPORAL_ADDRESS (namespace and search attributes made sure of), or the dev server in DATA_DIR. */
export async function startTemporal(
  cfg: Config,
  log: Logger,
  opts: StartOptions = {},
): Promise<{ address: string; uiUrl: string | null; stop: () => Promise<void> }> {
  if (cfg.TEMPORAL_ADDRESS) {
    await ensureNamespaceAndSearchAttributes(cfg.TEMPORAL_ADDRESS, cfg.TEMPORAL_NAMESPACE, temporalTls(cfg));
    return { address: cfg.TEMPORAL_ADDRESS, uiUrl: null, stop: async () => undefined };
  }
  const devOptions = {
    cliPath: cfg.TEMPORAL_CLI_PATH,
    port: cfg.TEMPORAL_PORT,
    uiPort: cfg.TEMPORAL_UI_PORT,
    namespace: cfg.TEMPORAL_NAMESPACE,
    dataDir: path.join(cfg.DATA_DIR, 'temporal'),
  };
  const address = `127.0.0.1:${cfg.TEMPORAL_PORT}`;
  const uiUrl = `http://127.0.0.1:${cfg.TEMPORAL_UI_PORT}`;
  if (opts.supervise) {
    const temporal = await supervise({
      name: 'temporal',
      log: opts.supervise,
      start: async () => (await startDevServer(devOptions)).process,
      stop: (c) => stopChild(c, 'SIGTERM', 10_000),
    });
    log.info({ address, webUi: uiUrl, pid: temporal.current()?.pid }, 'Temporal dev server running');
    return { address, uiUrl, stop: () => temporal.stop() };
  }
  const dev = await startDevServer(devOptions);
  log.info({ address: dev.address, webUi: dev.uiUrl }, 'Temporal dev server running');
  return { address: dev.address, uiUrl: dev.uiUrl, stop: () => dev.stop() };
}

export async function startRuntime(cfg: Config, log: Logger): Promise<Runtime> {
  const db = await startDatabase(cfg, log);
  await migrateDatabase(db, cfg, log);
  const temporal = await startTemporal(cfg, log);
  // One connection for the worker's polls and the activities' calls (signal-with-start of each
  // quarantine group, schedules): over the SDK's native client a call costs the worker less CPU
  // than over grpc-js (2,000 groups told: 12.6–13.8 against 15.6–15.8 CPU s, bench:fan-out).
  const connection = await workerConnection(temporal.address, cfg);
  const client = new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE });
  const timeouts = { connectTimeoutMs: cfg.DB_CONNECT_TIMEOUT_MS, statementTimeoutMs: cfg.DB_STATEMENT_TIMEOUT_MS };
  const pool = createPool(db.appUrl, 10, timeouts);
  // A connection for each page a fetch call may have being saved, in each fetch slot.
  const pageSaver = threadPageSaver(db.appUrl, timeouts, FETCH_SLOTS * SAVES_IN_FLIGHT);
  const keyring = keyringFromConfig(cfg);
  await verifyKeyring(pool, keyring);
  const deps: ActivityDeps = {
    pool,
    pageSaver,
    keyring,
    carrier: { ...carrierUrls(cfg), timeoutMs: cfg.CARRIER_TIMEOUT_MS },
    temporal: client,
    taskQueue: cfg.TASK_QUEUE,
    log,
    usagePageSize: cfg.USAGE_PAGE_SIZE,
    lookbackMonths: cfg.USAGE_LOOKBACK_MONTHS,
    reconcileIntervalHours: cfg.RECONCILE_INTERVAL_HOURS,
    alerts: alertChannels(cfg),
    invoiceReconciliation: reconciliationTiming(cfg),
  };
  return {
    cfg,
    pool,
    databaseUrl: db.appUrl,
    temporalAddress: temporal.address,
    uiUrl: temporal.uiUrl,
    client,
    connection,
    deps,
    async stop() {
      await connection.close().catch(() => undefined);
      await pageSaver.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
      await temporal.stop();
      await db.stop();
    },
  };
}

export async function workerConnection(address: string, cfg?: Config): Promise<NativeConnection> {
  return NativeConnection.connect({ address, tls: cfg ? temporalTls(cfg) : undefined });
}
