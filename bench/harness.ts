import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { ActivitySpan } from './timeline';
import { PROJECT_ROOT } from '../config';
import { Keyring } from '../config/secrets';
import { startEmbeddedPostgres } from '../db/embedded';
import { migrateAndGrant } from '../db/roles';
import { migrateUp } from '../db/migrate';
import { createPool, type Pool } from '../db/pool';
import { startDevServer } from '../workers/temporal-server';
import { WORKER_ENV, WORKER_NODE_FLAGS } from '../workers/node-flags';
import { workflowBundle } from '../workers/worker';
import { startSimulator, type Simulator } from '../carrier/simulator/server';
import type { ProviderContext } from '../client/providers';
import { onboardSimulatorProvider } from '../client/demo-provider';

/**
 * A complete, isolated stack for benchmarks and chaos runs: its own embedded PostgreSQL, Temporal
 * dev server and simulator on spare ports, and the worker as a separate process (so it can be
 * measured, killed and restarted like a real deployment).
 */
export interface Stack {
  dataDir: string;
  sim: Simulator;
  /** As the application role, as the worker connects. */
  pool: Pool;
  /** As the owner: for the benchmark's own scratch tables (the application role has no DDL). */
  ownerPool: Pool;
  databaseUrl: string;
  pgDataDir: string;
  pgPort: number;
  temporalAddress: string;
  /** The dev server's process (null when one was already running). */
  temporalPid: number | null;
  client: Client;
  workerEnv: NodeJS.ProcessEnv;
  ctx: ProviderContext;
  /** Starts a worker process; its log lines (JSON) are collected in workerLogs. */
  startWorker(): ChildProcess;
  workerLogs: string[];
  /** Stops PostgreSQL and starts it again on the same data (a database restart mid-run). */
  restartPostgres(): Promise<void>;
  stop(): Promise<void>;
}

export async function startStack(
  name: string,
  records: number,
  defaults: { pg: number; temporal: number; sim: number },
  opts: { providers?: number } = {},
): Promise<Stack> {
  // The usual port variables move the stack elsewhere (several people benchmarking on one machine).
  const env = process.env;
  const ports = {
    pg: Number(env.EMBEDDED_PG_PORT ?? defaults.pg),
    temporal: Number(env.TEMPORAL_PORT ?? defaults.temporal),
    ui: Number(env.TEMPORAL_UI_PORT ?? defaults.temporal + 1000),
    sim: Number(env.SIMULATOR_PORT ?? defaults.sim),
  };
  const dataDir = path.join(PROJECT_ROOT, '.data', name);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  let pg = await startEmbeddedPostgres(dataDir, ports.pg);
  // As deployed: migrations as the owner, everything else as the application role.
  const { ownerUrl, appUrl: databaseUrl } = await pg.database('csp');
  await migrateAndGrant({ ownerUrl, appUrl: databaseUrl }, (url) => migrateUp(url));
  const dev = await startDevServer({
    port: ports.temporal,
    uiPort: ports.ui,
    namespace: 'default',
    dataDir: path.join(dataDir, 'temporal'),
  });
  const sim = await startSimulator({
    port: ports.sim,
    usageRecords: records,
    maxPageSize: 10_000,
    providers: opts.providers,
  });
  const key = randomBytes(32).toString('base64');
  const keyring = new Keyring('bench', new Map([['bench', Buffer.from(key, 'base64')]]));
  const connection = await Connection.connect({ address: dev.address });
  const client = new Client({ connection });
  const pool = createPool(databaseUrl);
  const ownerPool = createPool(ownerUrl, 2);
  const workerEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    DATABASE_OWNER_URL: ownerUrl,
    TEMPORAL_ADDRESS: dev.address,
    RHIPE_API_URL: sim.url,
    RHIPE_IDENTITY_URL: sim.url,
    ENCRYPTION_KEY: key,
    ENCRYPTION_KEY_ID: 'bench',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    DATA_DIR: dataDir,
    ...WORKER_ENV,
  };
  const ctx: ProviderContext = {
    pool,
    keyring,
    carrier: { identityUrl: sim.url, apiUrl: sim.url, timeoutMs: 30_000 },
    temporal: client,
    taskQueue: 'csp-billing',
  };
  const workerLogs: string[] = [];
  // Workers run compiled and load a prebuilt workflow bundle, as deployed workers do (see the Dockerfile).
  const workerMain = buildWorker(path.join(dataDir, 'dist'));
  const bundlePath = path.join(dataDir, 'workflow-bundle.js');
  const { code } = await workflowBundle();
  writeFileSync(bundlePath, code);
  workerEnv.WORKFLOW_BUNDLE = bundlePath;
  return {
    workerLogs,
    dataDir,
    sim,
    pool,
    ownerPool,
    databaseUrl,
    pgDataDir: path.join(dataDir, 'pg'),
    pgPort: ports.pg,
    temporalAddress: dev.address,
    temporalPid: dev.process?.pid ?? null,
    client,
    workerEnv,
    ctx,
    async restartPostgres() {
      await pg.stop();
      pg = await startEmbeddedPostgres(dataDir, ports.pg);
    },
    startWorker() {
      // BENCH_WORKER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile the worker;
      // BENCH_WORKER_STDOUT=1 passes its standard output through (what --trace-gc prints).
      const extra = process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
      // The worker's V8 heap budget, as deployed (Dockerfile, npm run worker).
      const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, ...extra, workerMain], {
        cwd: PROJECT_ROOT,
        env: workerEnv,
        stdio: ['ignore', process.env.BENCH_WORKER_STDOUT ? 'inherit' : 'ignore', 'pipe'],
      });
      // Always drained: a full pipe would block the worker.
      let partial = '';
      child.stderr.on('data', (d: Buffer) => {
        const parts = (partial + d.toString()).split('\n');
        partial = parts.pop()!;
        workerLogs.push(...parts.filter(Boolean));
      });
      return child;
    },
    async stop() {
      await connection.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
      await ownerPool.end().catch(() => undefined);
      await sim.close();
      await dev.stop();
      await pg.stop();
    },
  };
}

/**
 * The worker compiled as `npm run build` compiles it (tsc, then the files it reads at run time),
 * into `out` inside the project so it finds node_modules as the image does: measured as deployed,
 * without tsx's loader, transpiler caches and source maps in its heap. Returns its main module.
 */
function buildWorker(out: string): string {
  const tsc = spawnSync(
    process.execPath,
    [path.join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', out],
    { cwd: PROJECT_ROOT, encoding: 'utf8' },
  );
  if (tsc.status !== 0)
    throw new Error(`compiling the worker failed: ${(tsc.stdout + tsc.stderr).trim().slice(-2000)}`);
  const assets = spawnSync(process.execPath, ['scripts/copy-assets.js', out], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  if (assets.status !== 0) throw new Error(`copying the worker's run-time files failed: ${assets.stderr.trim()}`);
  return path.join(out, 'workers', 'main.js');
}

export async function onboardFirstProvider(stack: Stack): Promise<string> {
  const { provider } = await onboardSimulatorProvider(stack.ctx, stack.sim.dataset, 0, {
    timeZone: 'Australia/Sydney',
    cycleTimes: ['06:00', '18:00'],
  });
  return provider.id;
}

/** CPU time (user + system) a process has used so far, in seconds. */
export function cpuSeconds(pid: number, withExitedChildren = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime + stime; cutime + cstime are the children that have exited (and were waited for).
    return (Number(f[11]) + Number(f[12]) + (withExitedChildren ? Number(f[13]) + Number(f[14]) : 0)) / 100;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of PostgreSQL: the postmaster and every process it started (backends, WAL writer, …),
 * those that have exited included: a pool's idle connection closes mid-cycle, and its backend's
 * CPU then moves to the postmaster's account of its children (without it, a million-line cycle
 * once showed 18.5 s of PostgreSQL CPU instead of about 60).
 */
export function postgresCpuSeconds(pgDataDir: string): number {
  let postmaster: number;
  try {
    postmaster = Number(readFileSync(path.join(pgDataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return 0;
  }
  let total = cpuSeconds(postmaster, true);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster)
        total += cpuSeconds(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** Peak resident set of a process (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** The events of every run of the workflow (continue-as-new makes several), oldest run first. */
export async function workflowHistories(
  client: Client,
  workflowId: string,
): Promise<temporal.api.history.v1.IHistoryEvent[][]> {
  const runs: temporal.api.history.v1.IHistoryEvent[][] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs.push((await client.workflow.getHandle(workflowId, wf.runId).fetchHistory()).events ?? []);
  }
  return runs;
}

/** An event's time, in ms since the epoch (the server's clock). */
function eventTimeMs(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
}

/** Each completed activity in these runs' events: when it started and when it ended. */
export function activitySpans(runs: readonly (readonly temporal.api.history.v1.IHistoryEvent[])[]): ActivitySpan[] {
  const EventType = temporal.api.enums.v1.EventType;
  const spans: ActivitySpan[] = [];
  for (const events of runs) {
    const byId = new Map(events.map((e) => [Number(e.eventId), e]));
    for (const e of events) {
      if (e.eventType !== EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) continue;
      const scheduled = byId.get(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId));
      const started = byId.get(Number(e.activityTaskCompletedEventAttributes?.startedEventId));
      spans.push({
        activity: scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?',
        startedMs: eventTimeMs(started?.eventTime),
        endedMs: eventTimeMs(e.eventTime),
      });
    }
  }
  return spans;
}
