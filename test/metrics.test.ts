import { startUsageCycleNow } from '../workflows/usage-cycle.api';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { request } from 'undici';
import { parse as parseYaml } from 'yaml';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { localTemporal } from './support/temporal';
import { startTestSystem, type TestSystem } from './support/system';
import { freePort } from './support/ports';
import { familyOf, metricNamesIn, parseExposition, total, type Exposition } from './support/prometheus';
import { startMetricsServer, type MetricsServer } from '../workers/metrics-server';
import { PROJECT_ROOT } from '../config';

let env: TestWorkflowEnvironment;
let sys: TestSystem;
let server: MetricsServer;
let lastScrape: Exposition;

before(async () => {
  // As the worker does it: the SDK's exporter on a private port, merged into our endpoint.
  const sdkPort = await freePort();
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: {
      metrics: {
        prometheus: {
          bindAddress: `127.0.0.1:${sdkPort}`,
          countersTotalSuffix: true,
          unitSuffix: true,
          useSecondsForDurations: true,
        },
      },
    },
  });
  env = await localTemporal();
  sys = await startTestSystem(env, { usageRecords: 600, pageSize: 50 });
  server = await startMetricsServer({
    host: '127.0.0.1',
    port: 0,
    pool: sys.db.pool,
    sdkMetricsUrl: `http://127.0.0.1:${sdkPort}/metrics`,
  });
});
after(async () => {
  await server?.close();
  await sys?.stop();
  await env?.teardown();
});

async function scrape(): Promise<Exposition> {
  const res = await request(server.url);
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /text\/plain/);
  lastScrape = parseExposition(await res.body.text());
  return lastScrape;
}

const USAGE = 'POST /api/v2/microsoftcsp/licence/usage';

test('scraped during a cycle and after it: the counters equal the cycle summary; faults counted by status', async () => {
  const provider = await sys.onboardSimProvider(0);
  // A page answered after 2 s: the cycle is certainly still running while we scrape. Two faults to count.
  sys.sim.faults.set([
    { endpoint: 'usage', kind: 'slow', delayMs: 2000, afterCalls: 4, times: 1 },
    { endpoint: 'usage', kind: 'http429', retryAfterSeconds: 1, afterCalls: 6, times: 1 },
    { endpoint: 'usage', kind: 'http500', afterCalls: 8, times: 1 },
  ]);
  const handle = await startUsageCycleNow(
    { temporal: env.client, taskQueue: sys.taskQueue },
    { providerId: provider.id },
    `metrics-cycle-${provider.id}`,
  );
  let seenMidCycle = false;
  for (let i = 0; i < 200 && !seenMidCycle; i++) {
    const mid = await scrape();
    const running = (await handle.describe()).status.name === 'RUNNING';
    if (running && total(mid, 'csp_carrier_requests_total', { endpoint: USAGE, status: '200' }) > 0) {
      seenMidCycle = true;
      // Not completed yet: the usage counters have not been added.
      assert.equal(total(mid, 'csp_usage_lines_billed_total', { provider: provider.id }), 0);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(seenMidCycle, 'a scrape saw carrier requests while the cycle ran');
  const summary = await handle.result();
  sys.sim.faults.clear();

  const m = await scrape();
  const p = { provider: provider.id };
  assert.equal(total(m, 'csp_usage_lines_fetched_total', p), summary.fetched);
  assert.equal(total(m, 'csp_usage_lines_billed_total', p), summary.billed);
  assert.equal(total(m, 'csp_usage_lines_repeated_total', p), summary.duplicatesSkipped);
  assert.equal(total(m, 'csp_usage_lines_quarantined_total', p), summary.quarantined);
  for (const [reason, n] of Object.entries(summary.quarantinedByReason))
    assert.equal(total(m, 'csp_usage_lines_quarantined_total', { ...p, reason }), n, reason);
  assert.equal(total(m, 'csp_usage_charge_billed', p).toFixed(4), Number(summary.charge).toFixed(4));
  assert.equal(total(m, 'csp_usage_cost_billed', p).toFixed(4), Number(summary.cost).toFixed(4));
  assert.equal(total(m, 'csp_usage_margin_billed', p).toFixed(4), Number(summary.margin).toFixed(4));
  assert.equal(total(m, 'csp_usage_cycles_total', { ...p, outcome: 'completed' }), 1);
  assert.equal(total(m, 'csp_usage_cycle_duration_seconds_count', { ...p, outcome: 'completed' }), 1);
  assert.ok(total(m, 'csp_usage_cycle_duration_seconds_sum', p) >= 2, 'the slow page is in the duration');

  // Carrier requests by endpoint template and status: every page (plus the closing empty one) and both faults.
  const pages = Math.ceil(summary.fetched / 50);
  assert.equal(total(m, 'csp_carrier_requests_total', { endpoint: USAGE, status: '429' }), 1);
  assert.equal(total(m, 'csp_carrier_requests_total', { endpoint: USAGE, status: '500' }), 1);
  assert.ok(total(m, 'csp_carrier_requests_total', { endpoint: USAGE, status: '200' }) >= pages + 1);
  assert.ok(total(m, 'csp_carrier_token_refreshes_total', { outcome: 'ok' }) >= 1);
  assert.ok(total(m, 'csp_carrier_request_duration_seconds_count', { endpoint: USAGE }) >= pages + 3);

  // Database gauges: the quarantine waiting now is this cycle's.
  assert.equal(total(m, 'csp_quarantine_lines_waiting', p), summary.quarantined);
  assert.ok(total(m, 'csp_quarantine_groups_waiting', p) > 0);
  assert.equal(total(m, 'csp_metrics_database_up'), 1);
  assert.ok(m.declared.has('csp_reconciliation_difference_cents'));

  // The SDK's own metrics on the same endpoint.
  assert.ok(total(m, 'temporal_workflow_completed_total') >= 1, 'Temporal SDK metrics are merged in');
  assert.ok(m.declared.has('temporal_activity_execution_latency_seconds'));

  // Bounded labels: no tenant GUIDs, RecordIds or page numbers anywhere.
  for (const s of m.samples.filter((x) => x.name.startsWith('csp_'))) {
    for (const [k, v] of Object.entries(s.labels)) {
      assert.ok(!/[0-9a-f]{8}-[0-9a-f]{4}-/i.test(v), `${s.name}{${k}="${v}"} looks like a tenant or record id`);
      assert.ok(!/page \d/.test(v), `${s.name}{${k}="${v}"} carries a page number`);
    }
  }
});

test('ops/: the Grafana dashboard and the Prometheus rules use only metric names the endpoint exposes', async () => {
  const exposed = new Set([...lastScrape.declared, ...lastScrape.samples.map((s) => familyOf(s.name))]);
  const check = (where: string, expr: string) => {
    const names = metricNamesIn(expr);
    assert.ok(names.length > 0, `${where}: "${expr}" names a metric`);
    for (const n of names)
      assert.ok(exposed.has(familyOf(n)) || exposed.has(n), `${where}: ${n} is not exposed by the metrics endpoint`);
  };
  const dashDir = path.join(PROJECT_ROOT, 'ops', 'grafana', 'dashboards');
  let exprs = 0;
  for (const file of readdirSync(dashDir).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(path.join(dashDir, file), 'utf8')) as {
      panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
    };
    for (const panel of dashboard.panels)
      for (const t of panel.targets ?? []) {
        check(`${file} "${panel.title}"`, t.expr);
        exprs++;
      }
  }
  const rules = parseYaml(readFileSync(path.join(PROJECT_ROOT, 'ops', 'prometheus', 'alerts.yml'), 'utf8')) as {
    groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
  };
  for (const g of rules.groups)
    for (const r of g.rules) {
      check(`alerts.yml ${r.alert}`, r.expr);
      exprs++;
    }
  assert.ok(exprs >= 12, `${exprs} expressions checked`);
});
