import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Pool } from '../db/pool';
import { startMetricsServer, type MetricsServer } from './metrics-server';
import { freeLoopbackPort } from './ports';
import { ensureAlertingSchedule } from '../workflows/alerting.api';
import type { WorkflowStarter } from '../workflows/starter';

/**
 * The SDK's Prometheus exporter address: a private loopback port, read by our metrics endpoint.
 * Call before the Temporal runtime is installed; undefined when metrics are off (METRICS_PORT=0).
 */
export async function sdkMetricsAddress(cfg: Config): Promise<string | undefined> {
  return cfg.METRICS_PORT === 0 ? undefined : `127.0.0.1:${await freeLoopbackPort()}`;
}

/**
 * Starts the metrics endpoint and makes sure the alerting schedule exists. Neither may stop
 * billing: a metrics port already taken is logged and the worker runs on without it.
 */
export async function startMetricsAndAlerting(o: {
  cfg: Config;
  pool: Pool;
  starter: WorkflowStarter;
  log: Logger;
  sdkAddress: string | undefined;
}): Promise<{ metrics: MetricsServer | null; stop(): Promise<void> }> {
  await ensureAlertingSchedule(o.starter, o.cfg.ALERT_EVALUATE_EVERY_MINUTES);
  let metrics: MetricsServer | null = null;
  if (o.cfg.METRICS_PORT !== 0) {
    try {
      metrics = await startMetricsServer({
        host: o.cfg.METRICS_HOST,
        port: o.cfg.METRICS_PORT,
        pool: o.pool,
        log: o.log,
        sdkMetricsUrl: o.sdkAddress ? `http://${o.sdkAddress}/metrics` : undefined,
      });
    } catch (err) {
      o.log.error(
        { error: (err as Error).message, port: o.cfg.METRICS_PORT },
        'metrics endpoint not started (set METRICS_PORT to a free port); billing goes on',
      );
    }
  }
  return { metrics, stop: async () => metrics?.close() };
}
