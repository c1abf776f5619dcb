/**
 * `npm start`: the whole system on this machine, supervised. PostgreSQL (DATABASE_URL or the
 * embedded one), Temporal (TEMPORAL_ADDRESS or the dev server with its Web UI), the carrier
 * simulator as the default carrier, and the worker as a child process; the embedded database, the
 * dev server and the worker are restarted with backoff whenever they die (each restart logged at
 * warn). Then every provider's schedule, and one usage cycle per provider at once, whose summary
 * is printed as one JSON line. One provider's failed cycle is that provider's alone: it is marked
 * as needing attention and the others go on. With CYCLE_ONCE=1 it then exits (0 only if every
 * cycle completed); otherwise it runs until SIGINT/SIGTERM, which stops every child in order.
 *
 * Exit codes: 0 done; 1 a cycle failed or something unexpected; 2 a mistake to fix (bad
 * configuration, a system already running on these ports); 3 a service unavailable.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WORKER_ENV, WORKER_NODE_FLAGS } from './node-flags';
import type { Logger } from 'pino';
import { Client, Connection } from '@temporalio/client';
import { ConfigError, loadConfig, carrierUrls, reconciliationTiming, usesSimulator, type Config } from '../config';
import { createLogger } from '../config/logger';
import { keyringFromConfig } from '../config/secrets';
import { temporalTls } from '../config/temporal-tls';
import { portOpen } from '../db/embedded';
import { createPool, DatabaseUnavailableError } from '../db/pool';
import { KeyMismatchError, verifyKeyring } from '../db/encryption-keys';
import { listProviders, setProviderAttention, type ProviderView } from '../db/providers';
import type { ProviderContext } from '../client/providers';
import { makeDataDirPrivate } from '../config/data-dir';
import { migrateDatabase, startDatabase, startTemporal } from './runtime';
import { onboardSimulatorProviders, startDemoCarrier } from './demo';
import { rootCause } from './root-cause';
import { ensureUsageSchedule, runUsageCycleNow } from '../workflows/usage-cycle.api';
import { ensureInvoiceReconciliationSchedule } from '../workflows/invoice-reconciliation.api';
import type { CycleSummary } from '../workflows/usage-cycle.api';
import { stopChild, supervise } from './supervise';
import { workflowBundle } from './worker';
import { installTemporalRuntime } from './logging';
import { startSystemConsole } from '../client/console/start';

export const EXIT = { ok: 0, failed: 1, mistake: 2, unavailable: 3 } as const;

/** Signals within this long of the first are the same stop request (see the handler). */
const SAME_STOP_REQUEST_MS = 2000;

class SystemError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** What runs, stopped in reverse order of starting; the first signal stops it all, a second one at once. */
class Stopper {
  private readonly parts: Array<{ name: string; stop: () => Promise<void> }> = [];
  private stopping: Promise<void> | undefined;
  constructor(private readonly log: Logger) {}

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** Registers a running part; if the system is already stopping, stops it at once. */
  async add(name: string, stop: () => Promise<void>): Promise<void> {
    if (this.stopping) return stop().catch(() => undefined);
    this.parts.push({ name, stop });
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const part of this.parts.reverse()) {
        await part
          .stop()
          .catch((err: Error) =>
            this.log.warn({ part: part.name, err: err.message }, `${part.name} did not stop cleanly`),
          );
      }
    })();
    return this.stopping;
  }
}

interface Lock {
  pid: number;
  startedAt: string;
  dataDir: string;
  temporal: string;
  webUi: string | null;
}

function lockFile(cfg: Config): string {
  return path.join(cfg.DATA_DIR, 'system.lock.json');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A second `npm start` on the same data folder or ports says where the first one runs, and stops. */
async function refuseSecondSystem(cfg: Config): Promise<void> {
  const file = lockFile(cfg);
  if (existsSync(file)) {
    const lock = JSON.parse(readFileSync(file, 'utf8')) as Lock;
    if (lock.pid !== process.pid && alive(lock.pid)) {
      throw new SystemError(
        `a system is already running: pid ${lock.pid}, started ${lock.startedAt}, data folder ${lock.dataDir}, Temporal ${lock.temporal}` +
          `${lock.webUi ? `, Web UI ${lock.webUi}` : ''}. Stop it first (Ctrl-C in its terminal, or kill ${lock.pid})`,
        EXIT.mistake,
      );
    }
  }
  const ours: Array<[string, number]> = [];
  if (!cfg.DATABASE_URL) ours.push(['embedded PostgreSQL (EMBEDDED_PG_PORT)', cfg.EMBEDDED_PG_PORT]);
  if (!cfg.TEMPORAL_ADDRESS)
    ours.push(
      ['Temporal dev server (TEMPORAL_PORT)', cfg.TEMPORAL_PORT],
      ['Temporal Web UI (TEMPORAL_UI_PORT)', cfg.TEMPORAL_UI_PORT],
    );
  if (usesSimulator(cfg)) ours.push(['carrier simulator (SIMULATOR_PORT)', cfg.SIMULATOR_PORT]);
  if (cfg.CONSOLE_PORT) ours.push(['web console (CONSOLE_PORT)', cfg.CONSOLE_PORT]);
  const busy: string[] = [];
  for (const [what, port] of ours) if (await portOpen(port)) busy.push(`127.0.0.1:${port} (${what})`);
  if (busy.length > 0) {
    throw new SystemError(
      `a system is already running here, or another program holds its ports: ${busy.join(', ')} already in use` +
        `${busy.some((b) => b.includes('TEMPORAL_PORT')) ? ` (its Web UI: http://127.0.0.1:${cfg.TEMPORAL_UI_PORT})` : ''}. ` +
        'Stop it first, or give this system other ports with the variables named',
      EXIT.mistake,
    );
  }
}

/**
 * The worker as a child process (workers/main.ts), pointed at the database and Temporal started
 * here. It says it is ready over the IPC channel, and drains and exits if this process dies.
 */
function startWorkerProcess(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const compiled = __filename.endsWith('.js');
  const entry = path.join(__dirname, compiled ? 'main.js' : 'main.ts');
  // The worker's heap budget and environment, as deployed (workers/node-flags.ts).
  const args = [...WORKER_NODE_FLAGS, ...(compiled ? [entry] : ['--import', 'tsx', entry])];
  const child = spawn(process.execPath, args, {
    env: { ...env, ...WORKER_ENV },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null) =>
      reject(new Error(`worker exited with ${code ?? signal} before it was ready`));
    child.once('exit', onExit);
    child.once('error', reject);
    child.on('message', (m: { ready?: boolean }) => {
      if (!m?.ready) return;
      child.off('exit', onExit);
      resolve(child);
    });
  });
}

export type CycleOutcome =
  ({ outcome: 'completed' } & CycleSummary) | { outcome: 'failed'; providerId: string; name: string; reason: string };

async function runCycleNow(ctx: ProviderContext, provider: ProviderView, log: Logger): Promise<CycleOutcome> {
  try {
    const summary = await runUsageCycleNow(ctx, { providerId: provider.id });
    return { outcome: 'completed', ...summary };
  } catch (err) {
    const reason = rootCause(err);
    await setProviderAttention(ctx.pool, provider.id, reason).catch(() => undefined);
    log.error(
      { provider: provider.id, name: provider.name, reason },
      'usage cycle failed; the provider needs attention, the others go on',
    );
    return { outcome: 'failed', providerId: provider.id, name: provider.name, reason };
  }
}

async function main(log: Logger, cfg: Config, stopper: Stopper): Promise<number> {
  await refuseSecondSystem(cfg);
  makeDataDirPrivate(cfg.DATA_DIR);
  const lock: Lock = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    dataDir: path.resolve(cfg.DATA_DIR),
    temporal: '',
    webUi: null,
  };

  const db = await startDatabase(cfg, log, { supervise: log });
  await stopper.add('postgres', db.stop);
  await migrateDatabase(db, cfg, log);
  // The application role from here on; the owner's URL is only for the worker's own migrations.
  const pool = createPool(db.appUrl, 10, {
    connectTimeoutMs: cfg.DB_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: cfg.DB_STATEMENT_TIMEOUT_MS,
  });
  await stopper.add('pool', () => pool.end());
  // Checked before any worker starts: a key that cannot open this database's secrets stops start-up.
  const keyring = keyringFromConfig(cfg);
  await verifyKeyring(pool, keyring);

  const temporal = await startTemporal(cfg, log, { supervise: log });
  await stopper.add('temporal', temporal.stop);
  Object.assign(lock, { temporal: temporal.address, webUi: temporal.uiUrl });
  writeFileSync(lockFile(cfg), JSON.stringify(lock) + '\n', { mode: 0o600 });
  await stopper.add('lock', async () => rmSync(lockFile(cfg), { force: true }));
  const connection = await Connection.connect({
    address: temporal.address,
    tls: temporalTls(cfg),
    connectTimeout: '10 seconds',
  });
  await stopper.add('connection', () => connection.close());
  const client = new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE });

  const simulator = await startDemoCarrier(cfg, log);
  if (simulator) await stopper.add('simulator', () => simulator.close());

  // Bundled once here, so each worker (re)start loads it instead of running webpack again.
  const bundlePath = path.join(cfg.DATA_DIR, 'workflow-bundle.js');
  writeFileSync(bundlePath, (await workflowBundle()).code, { mode: 0o600 });
  const workerEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: db.appUrl,
    DATABASE_OWNER_URL: db.ownerUrl,
    TEMPORAL_ADDRESS: temporal.address,
    WORKFLOW_BUNDLE: bundlePath,
    CYCLE_ONCE: '0',
  };
  const worker = await supervise({
    name: 'worker',
    log,
    start: () => startWorkerProcess(workerEnv),
    stop: (c) => stopChild(c, 'SIGTERM', 30_000),
  });
  await stopper.add('worker', () => worker.stop());
  log.info({ pid: worker.current()?.pid }, 'worker running (supervised)');

  const ctx: ProviderContext = {
    pool,
    keyring,
    carrier: { ...carrierUrls(cfg), timeoutMs: cfg.CARRIER_TIMEOUT_MS },
    temporal: client,
    taskQueue: cfg.TASK_QUEUE,
  };
  const webConsole = await startSystemConsole(cfg, { pool, temporal: client, temporalUiUrl: temporal.uiUrl }, log);
  if (webConsole) await stopper.add('console', () => webConsole.close());
  if (simulator) await onboardSimulatorProviders(ctx, simulator, cfg, log);
  const providers = (await listProviders(pool)).filter((p) => p.status !== 'REMOVED');
  for (const p of providers) {
    await ensureUsageSchedule(ctx, p);
    await ensureInvoiceReconciliationSchedule(ctx, p, reconciliationTiming(cfg));
  }
  const cycles = await Promise.all(providers.map((p) => runCycleNow(ctx, p, log)));
  const completed = cycles.filter(
    (c): c is Extract<CycleOutcome, { outcome: 'completed' }> => c.outcome === 'completed',
  );
  const line = {
    billed: completed.reduce((n, s) => n + s.billed, 0),
    quarantined: completed.reduce((n, s) => n + s.quarantined, 0),
    fetched: completed.reduce((n, s) => n + s.fetched, 0),
    duplicatesSkipped: completed.reduce((n, s) => n + s.duplicatesSkipped, 0),
    failed: cycles.length - completed.length,
    cycles,
  };
  process.stdout.write(JSON.stringify(line) + '\n');
  const code = completed.length === cycles.length ? EXIT.ok : EXIT.failed;
  if (cfg.CYCLE_ONCE) return code;
  log.info(
    { webUi: temporal.uiUrl, temporal: temporal.address, taskQueue: cfg.TASK_QUEUE },
    'system running; Ctrl-C stops it',
  );
  return new Promise<number>(() => undefined); // until a signal
}

function exitCodeOf(err: unknown): number {
  if (err instanceof SystemError) return err.exitCode;
  if (err instanceof ConfigError || err instanceof KeyMismatchError) return EXIT.mistake;
  if (err instanceof DatabaseUnavailableError) return EXIT.unavailable;
  return EXIT.failed;
}

if (require.main === module) {
  let cfg: Config;
  try {
    cfg = loadConfig();
  } catch (err) {
    process.stderr.write(`csp-billing: ${(err as Error).message}\n`);
    process.exit(EXIT.mistake);
  }
  const log = createLogger({ level: cfg.LOG_LEVEL, format: cfg.LOG_FORMAT });
  // This process runs no worker: signals are ours (an ordered stop), not the Temporal runtime's.
  installTemporalRuntime(log, undefined, []);
  const stopper = new Stopper(log);
  const finish = async (code: number) => {
    await stopper.stop();
    log.info({ exitCode: code }, 'stopped');
    // Let the logger flush, then leave even if a handle lingers.
    setTimeout(() => process.exit(code), 200);
  };
  let signalled = false;
  let firstSignalAt = 0;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (signalled) {
        // Ctrl-C reaches us twice at once: from the terminal (the whole process group) and from npm,
        // which forwards it. Only a second request a person makes later means "exit now".
        if (Date.now() - firstSignalAt < SAME_STOP_REQUEST_MS) return;
        process.stderr.write(`csp-billing: ${signal} again: exiting now\n`);
        process.exit(130);
      }
      signalled = true;
      firstSignalAt = Date.now();
      log.info({ signal }, 'stopping');
      void finish(EXIT.ok);
    });
  }
  // The process that started this one (npm, a shell) killed outright: nothing signals us, so stop
  // in order rather than run on as an orphan holding every port (checked each second).
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid === parent || signalled) return;
    signalled = true;
    log.warn({ parentPid: parent }, 'the process that started this one has gone: stopping');
    void finish(EXIT.ok);
  }, 1000).unref();
  main(log, cfg, stopper).then(
    (code) => {
      if (!stopper.isStopping) void finish(code);
    },
    (err: unknown) => {
      if (stopper.isStopping) return;
      process.stderr.write(`csp-billing: ${(err as Error).message}\n`);
      void finish(exitCodeOf(err));
    },
  );
}
