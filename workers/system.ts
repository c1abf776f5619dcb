/**
 * `npm start`: the whole system on this machine. PostgreSQL (DATABASE_URL or embedded), Temporal
 * (TEMPORAL_ADDRESS or the dev server with its Web UI), the carrier simulator as the default
 * carrier, a worker, every provider's schedule; then one usage cycle per provider at once, whose
 * summary is printed as one JSON line. With CYCLE_ONCE=1 it then exits 0; otherwise it keeps
 * running until SIGINT/SIGTERM.
 */
import { loadConfig, usesSimulator, type Config } from '../config';
import { createLogger } from '../config/logger';
import { installTemporalRuntime } from './logging';
import { startRuntime, workerConnection } from './runtime';
import { createWorker } from './worker';
import { startSimulator, type Simulator } from '../carrier/simulator/server';
import { portOpen } from '../db/embedded';
import { getProvider, listProviders } from '../db/providers';
import type { ProviderContext } from '../client/providers';
import { onboardSimulatorProvider } from '../client/demo-provider';
import { ensureUsageSchedule, runUsageCycleNow } from '../workflows/usage-cycle.api';
import { sdkMetricsAddress, startOperations } from './operations';

async function main(): Promise<void> {
  const cfg = loadConfig();
  const log = createLogger({ level: cfg.LOG_LEVEL, format: cfg.LOG_FORMAT });
  const sdkAddress = await sdkMetricsAddress(cfg);
  installTemporalRuntime(log, sdkAddress);
  const runtime = await startRuntime(cfg, log);
  const simulator = usesSimulator(cfg) ? await startDemoCarrier(cfg) : null;
  if (simulator) log.info({ carrier: simulator.url, usageLinesPerProvider: cfg.SIMULATOR_RECORDS }, 'carrier simulator running (default carrier)');

  const worker = await createWorker(await workerConnection(runtime.temporalAddress), cfg.TEMPORAL_NAMESPACE, runtime.deps);
  const running = worker.run();
  let operations: Awaited<ReturnType<typeof startOperations>> | undefined;
  const ctx: ProviderContext = { pool: runtime.pool, keyring: runtime.deps.keyring, carrier: runtime.deps.carrier, temporal: runtime.client, taskQueue: cfg.TASK_QUEUE };

  try {
    if (simulator) await onboardSimulatorProviders(ctx, simulator, cfg, log);
    const providers = (await listProviders(runtime.pool)).filter((p) => p.status !== 'REMOVED');
    for (const p of providers) await ensureUsageSchedule(ctx, p);
    operations = await startOperations({ cfg, pool: runtime.pool, starter: ctx, log, sdkAddress });
    const summaries = await Promise.all(providers.map((p) => runUsageCycleNow(ctx, { providerId: p.id })));
    const line = {
      billed: summaries.reduce((n, s) => n + s.billed, 0),
      quarantined: summaries.reduce((n, s) => n + s.quarantined, 0),
      fetched: summaries.reduce((n, s) => n + s.fetched, 0),
      duplicatesSkipped: summaries.reduce((n, s) => n + s.duplicatesSkipped, 0),
      cycles: summaries,
    };
    process.stdout.write(JSON.stringify(line) + '\n');
  } catch (err) {
    worker.shutdown();
    await running.catch(() => undefined);
    await operations?.stop();
    await simulator?.close();
    await runtime.stop();
    throw err;
  }

  if (cfg.CYCLE_ONCE) {
    worker.shutdown();
  } else {
    log.info({ webUi: runtime.uiUrl, temporal: runtime.temporalAddress, taskQueue: cfg.TASK_QUEUE }, 'system running; Ctrl-C stops it');
  }
  await running;
  await operations?.stop();
  await simulator?.close();
  await runtime.stop();
  log.info('stopped');
}

async function startDemoCarrier(cfg: Config): Promise<Simulator | null> {
  // Another `npm start` already serves the simulator on this port: share it.
  if (await portOpen(cfg.SIMULATOR_PORT)) return null;
  return startSimulator({ port: cfg.SIMULATOR_PORT, usageRecords: cfg.SIMULATOR_RECORDS });
}

/** The demo's providers: the simulator's, onboarded once (idempotent by client id), with a rate card. */
async function onboardSimulatorProviders(ctx: ProviderContext, sim: Simulator, cfg: Config, log: ReturnType<typeof createLogger>): Promise<void> {
  for (const [index, p] of sim.dataset.providers.entries()) {
    if (await getProvider(ctx.pool, p.clientId)) continue;
    const timeZone = p.currency === 'NZD' ? 'Pacific/Auckland' : cfg.DEFAULT_TIME_ZONE;
    const { provider, onboarding } = await onboardSimulatorProvider(ctx, sim.dataset, index, { timeZone, cycleTimes: cfg.CYCLE_TIMES });
    log.info({ provider: provider.id, name: provider.name, services: onboarding.createdServices.length }, 'demo provider onboarded');
  }
}

main().catch((err: Error) => {
  process.stderr.write(`csp-billing: ${err.message}\n`);
  process.exit(1);
});
