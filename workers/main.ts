/**
 * `npm run worker`: a worker for the csp-billing task queue. Run as many as you like against one
 * Temporal cluster (TEMPORAL_ADDRESS) and one database (DATABASE_URL): they share the work.
 * SIGINT/SIGTERM drain it: polling stops, running activities get the grace time to finish.
 * Started by `npm start` (workers/system.ts) it is a supervised child: it reports "ready" over the
 * IPC channel, and drains and exits when that channel closes (its supervisor is gone).
 * Exit codes: 0 drained; 1 unexpected failure; 2 bad configuration or key; 3 a service unavailable.
 */
import { ConfigError, loadConfig, reconciliationTiming } from '../config';
import { createLogger } from '../config/logger';
import { installTemporalRuntime } from './logging';
import { startRuntime } from './runtime';
import { createWorker } from './worker';
import { listProviders } from '../db/providers';
import { ensureUsageSchedule } from '../workflows/usage-cycle.api';
import { sdkMetricsAddress, startMetricsAndAlerting } from './operations';
import { ensureInvoiceReconciliationSchedule } from '../workflows/invoice-reconciliation.api';

async function main(): Promise<void> {
  const cfg = loadConfig();
  const log = createLogger({ level: cfg.LOG_LEVEL, format: cfg.LOG_FORMAT });
  const sdkAddress = await sdkMetricsAddress(cfg);
  installTemporalRuntime(log, sdkAddress);
  const runtime = await startRuntime(cfg, log);
  const worker = await createWorker(runtime.connection, cfg.TEMPORAL_NAMESPACE, runtime.deps, cfg.WORKFLOW_BUNDLE);
  // Schedules are created-or-updated on every worker start, so settings changes always land.
  for (const p of await listProviders(runtime.pool)) {
    await ensureUsageSchedule(runtime.deps, p);
    await ensureInvoiceReconciliationSchedule(runtime.deps, p, reconciliationTiming(cfg));
  }
  const operations = await startMetricsAndAlerting({ cfg, pool: runtime.pool, starter: runtime.deps, log, sdkAddress });
  log.info({ taskQueue: cfg.TASK_QUEUE, temporal: runtime.temporalAddress, pid: process.pid }, 'worker running');
  const running = worker.run();
  if (process.send) {
    process.send({ ready: true });
    process.once('disconnect', () => {
      if (worker.getState() !== 'RUNNING') return;
      log.warn('supervisor gone: draining');
      worker.shutdown();
    });
  }
  await running;
  await operations.stop();
  log.info('worker drained and stopped');
  await runtime.stop();
  process.disconnect?.();
}

main().catch((err: Error & { exitCode?: number }) => {
  process.stderr.write(`worker: ${err.message}\n`);
  process.exit(err instanceof ConfigError ? 2 : typeof err.exitCode === 'number' ? err.exitCode : 1);
});
