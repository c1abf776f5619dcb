import http from 'node:http';
import net from 'node:net';
import { request } from 'undici';
import { Gauge } from 'prom-client';
import type { Logger } from 'pino';
import { registry } from '../activities/metrics';
import type { Pool } from '../db/pool';
import { latestReconciliationDifferences, quarantineWaiting } from '../db/health-readings';
import { firingCounts } from '../db/alerts';

/**
 * One scrape endpoint per worker process, `GET /metrics` on METRICS_HOST:METRICS_PORT: the
 * project's metrics (prom-client, `csp_…`) followed by the Temporal SDK's own (`temporal_…`),
 * which the SDK's Rust core serves on a private loopback port that this server reads at each
 * scrape. One endpoint, so one scrape target per worker and one port to open; the two name
 * prefixes never collide.
 *
 * Database gauges (quarantine waiting, alerts firing) are read at scrape time, so every worker
 * reports the same values: aggregate them with max(), not sum() (ops/ does).
 */
export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

let refreshDatabaseGauges: (() => Promise<void>) | undefined;

/** Registers the gauges read from the database; they are refreshed at the start of each scrape. */
export function registerDatabaseGauges(pool: Pool, log?: Logger): void {
  if (refreshDatabaseGauges) return;
  const linesWaiting = new Gauge({
    name: 'csp_quarantine_lines_waiting',
    help: 'Usage lines waiting in quarantine now, by provider, reason and age band',
    labelNames: ['provider', 'reason', 'age'],
    registers: [registry],
  });
  const amountWaiting = new Gauge({
    name: 'csp_quarantine_amount_waiting',
    help: "Carrier charge of the lines waiting in quarantine now, by provider, reason, age band and the records' currency",
    labelNames: ['provider', 'reason', 'age', 'currency'],
    registers: [registry],
  });
  const groupsWaiting = new Gauge({
    name: 'csp_quarantine_groups_waiting',
    help: 'Quarantine groups (provider + reason + tenant) with lines waiting now',
    labelNames: ['provider', 'reason'],
    registers: [registry],
  });
  const alertsFiring = new Gauge({
    name: 'csp_alerts_firing',
    help: 'Alert occurrences open now, by rule',
    labelNames: ['rule'],
    registers: [registry],
  });
  const reconciliation = new Gauge({
    name: 'csp_reconciliation_difference_cents',
    help: "Difference of the provider's most recent invoice reconciliation, in cents (0: the invoice agrees with what was received)",
    labelNames: ['provider'],
    registers: [registry],
  });
  const databaseUp = new Gauge({
    name: 'csp_metrics_database_up',
    help: '1 when the database gauges could be read at this scrape, else 0',
    registers: [registry],
  });
  refreshDatabaseGauges = async () => {
    try {
      const [q, firing, differences] = await Promise.all([
        quarantineWaiting(pool),
        firingCounts(pool),
        latestReconciliationDifferences(pool),
      ]);
      for (const g of [linesWaiting, amountWaiting, groupsWaiting, alertsFiring, reconciliation]) g.reset();
      for (const r of q.lines) {
        linesWaiting.inc({ provider: r.provider_id, reason: r.reason, age: r.age }, r.lines);
        amountWaiting.set(
          { provider: r.provider_id, reason: r.reason, age: r.age, currency: r.currency },
          Number(r.amount),
        );
      }
      for (const g of q.groups) groupsWaiting.set({ provider: g.provider_id, reason: g.reason }, g.groups);
      for (const f of firing) alertsFiring.set({ rule: f.rule }, f.n);
      for (const d of differences) reconciliation.set({ provider: d.provider_id }, d.difference_cents);
      databaseUp.set(1);
    } catch (err) {
      log?.warn({ error: (err as Error).message }, 'metrics: database gauges unavailable');
      databaseUp.set(0);
    }
  };
}

export async function startMetricsServer(opts: {
  host: string;
  port: number;
  pool?: Pool;
  sdkMetricsUrl?: string;
  log?: Logger;
}): Promise<MetricsServer> {
  if (opts.pool) registerDatabaseGauges(opts.pool, opts.log);
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    scrape(opts.sdkMetricsUrl).then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics: ${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  opts.log?.info({ metrics: `http://${host}:${port}/metrics` }, 'metrics endpoint listening');
  return {
    url: `http://${host}:${port}/metrics`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function scrape(sdkMetricsUrl: string | undefined): Promise<string> {
  await refreshDatabaseGauges?.();
  const own = await registry.metrics();
  if (!sdkMetricsUrl) return own;
  try {
    const res = await request(sdkMetricsUrl, { headersTimeout: 3000, bodyTimeout: 3000 });
    const sdk = await res.body.text();
    return res.statusCode === 200
      ? `${own}\n${sdk}`
      : `${own}\n# Temporal SDK metrics unavailable (HTTP ${res.statusCode})\n`;
  } catch (err) {
    return `${own}\n# Temporal SDK metrics unavailable (${(err as { code?: string }).code ?? 'error'})\n`;
  }
}
