import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { REDACT_PATHS } from '../../config/logger';
import { Keyring } from '../../config/secrets';
import { createActivities } from '../../activities';
import type { ActivityDeps } from '../../activities/deps';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../carrier/simulator/server';
import { clearTokenCache } from '../../carrier/client';
import type { ProviderContext } from '../../client/providers';
import { onboardSimulatorProvider } from '../../client/demo-provider';
import { workflowBundle } from '../../workers/worker';
import { freshDatabase, type TestDatabase } from './database';
import { threadPageSaver } from '../../db/page-saver';
import { FETCH_SLOTS, SAVES_IN_FLIGHT } from '../../activities/usage';
import type { ProviderView } from '../../db/providers';

/** Log lines captured in memory, so tests can search them (for secrets, for messages). */
export class CapturedLogs {
  readonly lines: string[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  logger() {
    return pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[REDACTED]' } }, this.stream);
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface TestSystem {
  env: TestWorkflowEnvironment;
  db: TestDatabase;
  sim: Simulator;
  deps: ActivityDeps;
  ctx: ProviderContext;
  logs: CapturedLogs;
  taskQueue: string;
  worker: Worker;
  /** Starts a fresh worker (after the previous one was shut down), as a restarted process would. */
  restartWorker(): Promise<void>;
  onboardSimProvider(index: number, opts?: { withRateCard?: boolean }): Promise<ProviderView>;
  stop(): Promise<void>;
}

export async function startTestSystem(
  env: TestWorkflowEnvironment,
  opts: SimulatorOptions & { pageSize?: number } = {},
): Promise<TestSystem> {
  clearTokenCache();
  const db = await freshDatabase();
  const sim = await startSimulator({ usageRecords: 300, ...opts });
  const logs = new CapturedLogs();
  const taskQueue = `test-${randomBytes(4).toString('hex')}`;
  // As many connections as a worker process gives it (workers/runtime.ts).
  const pageSaver = threadPageSaver(db.url, {}, FETCH_SLOTS * SAVES_IN_FLIGHT);
  const deps: ActivityDeps = {
    pool: db.pool,
    pageSaver,
    keyring: new Keyring('test', new Map([['test', randomBytes(32)]])),
    carrier: { identityUrl: sim.url, apiUrl: sim.url, timeoutMs: 5000 },
    temporal: env.client,
    taskQueue,
    log: logs.logger(),
    usagePageSize: opts.pageSize ?? 50,
    lookbackMonths: 1,
    reconcileIntervalHours: 24,
  };
  const ctx: ProviderContext = {
    pool: db.pool,
    keyring: deps.keyring,
    carrier: deps.carrier,
    temporal: env.client,
    taskQueue,
  };
  const makeWorker = async () =>
    Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(deps),
      shutdownGraceTime: '5 seconds',
    });
  let worker = await makeWorker();
  let running = worker.run();
  const sys: TestSystem = {
    env,
    db,
    sim,
    deps,
    ctx,
    logs,
    taskQueue,
    get worker() {
      return worker;
    },
    async restartWorker() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      worker = await makeWorker();
      running = worker.run();
    },
    async onboardSimProvider(index, o = {}) {
      const { provider } = await onboardSimulatorProvider(ctx, sim.dataset, index, {
        timeZone: 'Australia/Sydney',
        cycleTimes: ['06:00', '18:00'],
        withRateCard: o.withRateCard,
      });
      return provider;
    },
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await sim.close();
      await pageSaver.close();
      await db.drop();
    },
  };
  return sys;
}
