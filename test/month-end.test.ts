import pg from 'pg';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { parse as parseCsv } from 'csv-parse/sync';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { localTemporal } from './support/temporal';
import { startTestSystem, type TestSystem } from './support/system';
import { runUsageCycleNow } from '../workflows/usage-cycle.api';
import {
  ensureInvoiceReconciliationSchedule,
  invoiceReconciliationScheduleId,
  reconciliationResult,
  startInvoiceReconciliation,
} from '../workflows/invoice-reconciliation.api';
import { resolveGroup, signalAction } from '../workflows/quarantine-group.api';
import { currentDetails } from '../workflows/web-ui.api';
import { groupWorkflowId } from '../workflows/quarantine-group.api';
import { buildInvoice } from '../carrier/simulator/invoices';
import { previousMonth } from '../carrier/simulator/dataset';
import { buildChargesReport, buildExport } from '../client/month-end';
import { closePeriod, listPeriods, reopenPeriod, PeriodStateError } from '../db/billing-periods';
import { XERO_COLUMNS, BUCKET_EXPORT_COLUMNS } from '../core/billing-report';
import { Decimal } from '../core/money';
import { RECONCILIATION_CLASSES, centsText } from '../core/reconciliation-report';
import { PROJECT_ROOT } from '../config';
import type { CycleSummary } from '../workflows/usage-cycle.api';
import type { ProviderView } from '../db/providers';
import { recordHistory } from './support/histories';
import { providerReadings } from '../db/health-readings';

const run = promisify(execFile);

let env: TestWorkflowEnvironment;
let sys: TestSystem;
let provider: ProviderView;
let first: CycleSummary;
let prev: string;
let cur: string;

before(async () => {
  env = await localTemporal();
  sys = await startTestSystem(env, { usageRecords: 600, pageSize: 100 });
  provider = await sys.onboardSimProvider(0);
  first = await runCycle();
  cur = sys.sim.dataset.usageMonth;
  prev = previousMonth(cur);
});
after(async () => {
  await sys?.stop();
  await env?.teardown();
});

let seq = 0;
function runCycle(): Promise<CycleSummary> {
  return runUsageCycleNow(
    { temporal: env.client, taskQueue: sys.taskQueue },
    { providerId: provider.id },
    `me-cycle-${++seq}`,
  );
}

/** The CLI as an admin runs it, against the test's database and Temporal. */
async function csp(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'client/cli.ts', ...args], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      DATABASE_URL: sys.db.url,
      TEMPORAL_ADDRESS: env.address,
      TASK_QUEUE: sys.taskQueue,
      LOG_LEVEL: 'silent',
    },
    maxBuffer: 20 * 1024 * 1024,
  });
  return stdout;
}

async function waitForScheduledRun(): Promise<string> {
  for (let i = 0; i < 150; i++) {
    const d = await env.client.schedule.getHandle(invoiceReconciliationScheduleId(provider.id)).describe();
    const started = d.info.recentActions[0]?.action.workflow.workflowId;
    if (started) return started;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the schedule started no run');
}

const sum = (values: string[]) => values.reduce((a, v) => a.plus(v), new Decimal(0)).toFixed(4);

async function liveChargeTotals() {
  const r = await sys.db.pool.query<{ n: number; charge: string }>(
    `SELECT count(*)::int AS n, coalesce(sum(charge), 0)::text AS charge FROM usage_charge WHERE provider_id = $1`,
    [provider.id],
  );
  return r.rows[0]!;
}

test('charges report: totals equal the cycle summaries to the cent; every grouping adds up; CLI shapes', async () => {
  const reports = await Promise.all([prev, cur].map((p) => buildChargesReport(sys.db.pool, provider, p, 'customer')));
  assert.equal(reports[0]!.totals.lines + reports[1]!.totals.lines, first.billed);
  assert.equal(sum(reports.map((r) => r.totals.charge)), first.charge);
  assert.equal(sum(reports.map((r) => r.totals.cost)), first.cost);
  assert.equal(sum(reports.map((r) => r.totals.margin)), first.margin);
  for (const by of ['customer', 'service', 'product'] as const) {
    const r = await buildChargesReport(sys.db.pool, provider, prev, by);
    assert.equal(sum(r.rows.map((x) => x.charge)), r.totals.charge, `rows by ${by} add up`);
    assert.equal(
      r.rows.reduce((a, x) => a + x.lines, 0),
      r.totals.lines,
    );
  }
  assert.ok(
    reports[0]!.rows.some((r) => r.creditLines > 0 && new Decimal(r.credits).isNegative()),
    'credits shown as negative',
  );

  const json = JSON.parse(await csp('billing', 'report', '--provider', provider.id, '--period', prev, '--json'));
  assert.deepEqual(
    Object.keys(json).filter((k) => k !== 'by'),
    ['providerId', 'period', 'currency', 'totals', 'rows'],
  );
  assert.deepEqual(Object.keys(json.totals).slice(0, 5), ['lines', 'units', 'cost', 'charge', 'margin']);
  assert.equal(json.totals.charge, reports[0]!.totals.charge);
  assert.match(json.totals.charge, /^-?\d+\.\d{4}$/);
  const csv = parseCsv<Record<string, string>>(
    await csp('billing', 'report', '--provider', provider.id, '--period', prev, '--csv', '--by', 'product'),
    { columns: true },
  );
  assert.equal(sum(csv.map((r) => r.charge!)), reports[0]!.totals.charge);
  const human = await csp('billing', 'report', '--provider', provider.id, '--period', prev);
  const totalLine = human.split('\n').find((l) => l.startsWith('TOTAL'))!;
  // The human table's charge is what is invoiced (invoice lines rounded once each).
  assert.ok(totalLine.includes(reports[0]!.totals.invoiced), totalLine);
  assert.equal(json.totals.invoiced, reports[0]!.totals.invoiced);
  assert.match(json.totals.invoiced, /^-?\d+\.\d{2}$/);
  assert.ok(json.rows.every((r: { invoiced: string }) => /^-?\d+\.\d{2}$/.test(r.invoiced)));
});

test('invoice reconciliation finds exactly the planted differences, bills invoice-only lines once, is idempotent', async () => {
  const planned = buildInvoice(sys.sim.dataset, sys.sim.dataset.providers[0]!, prev);
  for (const k of ['NOT_IN_FEED', 'AMOUNT_DIFFERS', 'NOT_ON_INVOICE', 'REPEATED_ON_INVOICE'] as const)
    assert.ok(planned.planted[k].length >= 2, `${k} planted`);
  const before = await liveChargeTotals();

  const handle = await startInvoiceReconciliation(
    { temporal: env.client, taskQueue: sys.taskQueue },
    provider.id,
    prev,
  );
  const result = await handle.result();
  // Exact sums, each rounded once: a class's difference is the exact sum of its lines'; its cents
  // that sum rounded once (within a cent per line of the simulator's per-line cents); the classes'
  // exact differences add up to the overall, whose cents are it rounded once.
  const exact = (k: string) => new Decimal(result.classes[k as keyof typeof result.classes].difference!);
  const roundedOnce = (d: Decimal) => d.times(100).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
  for (const k of ['NOT_IN_FEED', 'AMOUNT_DIFFERS', 'NOT_ON_INVOICE', 'REPEATED_ON_INVOICE'] as const) {
    assert.equal(result.classes[k].lines, planned.planted[k].length, k);
    const lines = result.differences.filter((d) => d.class === k);
    assert.equal(lines.reduce((a, d) => a.plus(d.difference!), new Decimal(0)).toFixed(), exact(k).toFixed(), k);
    assert.equal(result.classes[k].differenceCents, roundedOnce(exact(k)), `${k} cents: the exact sum rounded once`);
    assert.ok(Math.abs(result.classes[k].differenceCents - planned.plantedCents[k]) <= lines.length, `${k} cents`);
    assert.ok(
      lines.every((d) => d.customer && d.product),
      `${k} lines name their customer and product`,
    );
    assert.deepEqual(
      result.differences
        .filter((d) => d.class === k)
        .map((d) => d.recordId)
        .sort(),
      [...planned.planted[k]].sort(),
      `${k} lines`,
    );
  }
  assert.equal(result.classes.MATCHED.differenceCents, 0);
  assert.equal(
    result.classes.MATCHED.lines,
    planned.rows.length -
      planned.planted.NOT_IN_FEED.length -
      planned.planted.AMOUNT_DIFFERS.length -
      planned.planted.REPEATED_ON_INVOICE.length,
  );
  assert.equal(
    result.classes.AMOUNT_DIFFERS.difference,
    new Decimal('1.25').times(planned.planted.AMOUNT_DIFFERS.length).toFixed(),
  );
  const overall = RECONCILIATION_CLASSES.reduce((a, k) => a.plus(exact(k)), new Decimal(0));
  assert.equal(result.difference, overall.toFixed(), "the classes' exact differences add up to the overall");
  assert.equal(result.differenceCents, roundedOnce(overall));
  assert.notEqual(result.differenceCents, 0);

  // Invoice-only lines are usage: mediated like any line, billed once.
  assert.equal(result.notInFeedMediated.lines, planned.planted.NOT_IN_FEED.length);
  assert.equal(result.notInFeedMediated.billed, planned.planted.NOT_IN_FEED.length);
  const billedOnce = async () =>
    (
      await sys.db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM usage_charge WHERE provider_id = $1 AND record_key = ANY($2::text[])`,
        [provider.id, planned.planted.NOT_IN_FEED],
      )
    ).rows[0]!.n;
  assert.equal(await billedOnce(), planned.planted.NOT_IN_FEED.length);
  assert.equal((await liveChargeTotals()).n, before.n + planned.planted.NOT_IN_FEED.length);

  // The admin sees the figure; the Web UI shows the summary.
  const p = await sys.db.pool.query<{ invoice_attention: string | null }>(
    'SELECT invoice_attention FROM provider WHERE id = $1',
    [provider.id],
  );
  assert.match(
    p.rows[0]!.invoice_attention ?? '',
    new RegExp(`difference ${centsText(result.differenceCents).replace('.', '\\.')} AUD`),
  );
  assert.match((await handle.describe().then((d) => d.staticSummary())) ?? '', /Invoice reconciliation/);
  const details = await currentDetails(env.client, handle.workflowId);
  assert.match(details ?? '', new RegExp(`difference ${centsText(result.differenceCents).replace('.', '\\.')} AUD`));
  // The alert rule for reconciliation differences sees it.
  const readings = await providerReadings(sys.db.pool, provider.id, 7);
  assert.deepEqual(
    readings!.reconciliations.map((r) => [r.subject, r.differenceCents]),
    [[`invoice:${result.invoiceId}`, result.differenceCents]],
  );
  await recordHistory(handle, 'invoice-reconciliation');

  // Again, through the CLI: same result, one stored report, nothing billed twice; a usage cycle bills nothing new.
  const again = JSON.parse(await csp('invoice', 'reconcile', '--provider', provider.id, '--period', prev, '--json'));
  assert.deepEqual(Object.keys(again).slice(0, 5), ['providerId', 'period', 'invoiceId', 'classes', 'differenceCents']);
  assert.equal(again.differenceCents, result.differenceCents);
  assert.deepEqual(again.classes.NOT_IN_FEED, {
    lines: result.classes.NOT_IN_FEED.lines,
    subTotal: result.classes.NOT_IN_FEED.subTotal,
    difference: result.classes.NOT_IN_FEED.difference,
    differenceCents: result.classes.NOT_IN_FEED.differenceCents,
  });
  assert.equal(again.difference, result.difference);
  // For people: every amount with 2 decimals and the currency, never the exact sum's 20-odd decimals.
  const text = await csp('invoice', 'reconcile', '--provider', provider.id, '--period', prev);
  const notInFeedRow = text.split('\n').find((l) => l.startsWith('NOT_IN_FEED'))!;
  assert.match(notInFeedRow, /^NOT_IN_FEED\s+\d+\s+-?[\d,]+\.\d\d AUD\s+-?[\d,]+\.\d\d AUD$/, notInFeedRow);
  assert.doesNotMatch(text.split('\n\n')[1] ?? '', /\d\.\d{3,}/, 'no long decimals in the class table');
  const stored = await sys.db.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM invoice_reconciliation WHERE provider_id = $1 AND invoice_id = $2',
    [provider.id, result.invoiceId],
  );
  assert.equal(stored.rows[0]!.n, 1);
  const cycle = await runCycle();
  assert.equal(cycle.billed, 0);
  assert.equal(await billedOnce(), planned.planted.NOT_IN_FEED.length);

  // The monthly schedule: created at onboarding (day 7 by default), moved by configuration, and a
  // scheduled run reconciles the month before with the same result.
  const schedule = env.client.schedule.getHandle(invoiceReconciliationScheduleId(provider.id));
  assert.deepEqual(
    (await schedule.describe()).spec.calendars?.map((c) => [c.dayOfMonth, c.hour]),
    [[[{ start: 7, end: 7, step: 1 }], [{ start: 9, end: 9, step: 1 }]]],
  );
  assert.equal(
    await ensureInvoiceReconciliationSchedule({ temporal: env.client, taskQueue: sys.taskQueue }, provider, {
      dayOfMonth: 12,
      time: '08:30',
    }),
    'updated',
  );
  assert.deepEqual(
    (await schedule.describe()).spec.calendars?.map((c) => [c.dayOfMonth, c.hour, c.minute]),
    [[[{ start: 12, end: 12, step: 1 }], [{ start: 8, end: 8, step: 1 }], [{ start: 30, end: 30, step: 1 }]]],
  );
  await schedule.trigger();
  const scheduledRun = await waitForScheduledRun();
  const scheduled = await reconciliationResult(env.client, scheduledRun);
  assert.equal(scheduled.period, prev);
  assert.equal(scheduled.differenceCents, result.differenceCents);
  assert.equal(scheduled.newlyStored, false);

  // An invoice for a month with no usage and no lines: nothing differs.
  const older = await (
    await startInvoiceReconciliation(
      { temporal: env.client, taskQueue: sys.taskQueue },
      provider.id,
      previousMonth(prev),
    )
  ).result();
  assert.equal(older.differenceCents, 0);
});

test('period close: the database refuses changes; accept-revision after close credits and charges in the open month; exports stable', async () => {
  const reportBefore = await buildChargesReport(sys.db.pool, provider, prev, 'service');
  await closePeriod(sys.db.pool, provider.id, prev, 'alice');
  await assert.rejects(closePeriod(sys.db.pool, provider.id, prev, 'alice'), PeriodStateError);
  // Whoever writes, a closed month's charges do not change.
  await assert.rejects(
    sys.db.pool.query(`UPDATE usage_charge SET charge = charge + 1 WHERE provider_id = $1 AND billing_period = $2`, [
      provider.id,
      prev,
    ]),
    /is closed/,
  );
  await assert.rejects(
    sys.db.pool.query(`DELETE FROM usage_charge WHERE provider_id = $1 AND billing_period = $2`, [provider.id, prev]),
    /is closed/,
  );
  // The application role may not TRUNCATE at all; the owner is stopped by the closed month.
  await assert.rejects(sys.db.pool.query('TRUNCATE usage_charge CASCADE'), /permission denied/);
  const owner = new pg.Client({ connectionString: sys.db.ownerUrl });
  await owner.connect();
  await assert.rejects(owner.query('TRUNCATE usage_charge CASCADE'), /closed/).finally(() => owner.end());

  // Exports of the closed month: byte-identical each time; they parse back to the report's totals.
  const xero1 = await buildExport(sys.db.pool, provider, prev, 'xero');
  const xero2 = await csp('billing', 'export', '--provider', provider.id, '--period', prev, '--format', 'xero');
  assert.equal(xero2, xero1);
  const xeroRows = parseCsv<Record<string, string>>(xero1, { columns: true });
  assert.deepEqual(Object.keys(xeroRows[0]!), [...XERO_COLUMNS]);
  // What Xero computes (each line Quantity × UnitAmount rounded to cents, summed per invoice)
  // equals the report's invoiced figures to the cent: per customer and in total.
  const xeroLine = (r: Record<string, string>) =>
    new Decimal(r['*UnitAmount']!).times(r['*Quantity']!).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
  assert.equal(xeroRows.reduce((a, r) => a.plus(xeroLine(r)), new Decimal(0)).toFixed(2), reportBefore.totals.invoiced);
  const byCustomer = await buildChargesReport(sys.db.pool, provider, prev, 'customer');
  for (const row of byCustomer.rows) {
    const lines = xeroRows.filter((r) => r['*ContactName'] === row.customer);
    assert.equal(lines.reduce((a, r) => a.plus(xeroLine(r)), new Decimal(0)).toFixed(2), row.invoiced, row.customer!);
  }
  assert.ok(
    xeroRows.every((r) => /^-?\d+\.\d{2}$/.test(r['*UnitAmount']!)),
    'unit amounts in cents',
  );
  assert.ok(
    Math.abs(new Decimal(reportBefore.totals.invoiced).minus(reportBefore.totals.charge).toNumber()) <=
      0.005 * xeroRows.length,
  );
  const invoices = new Map<string, Set<string>>();
  for (const r of xeroRows)
    invoices.set(r['*InvoiceNumber']!, (invoices.get(r['*InvoiceNumber']!) ?? new Set()).add(r['*ContactName']!));
  assert.equal(invoices.size, new Set(xeroRows.map((r) => r['*ContactName'])).size, 'one invoice per customer');
  assert.ok([...invoices.values()].every((names) => names.size === 1));
  assert.ok(xeroRows.every((r) => r['*TaxType'] === 'OUTPUT' && r['*AccountCode'] === '200' && r.Currency === 'AUD'));
  const csv1 = await buildExport(sys.db.pool, provider, prev, 'csv');
  assert.equal(await buildExport(sys.db.pool, provider, prev, 'csv'), csv1);
  const csvRows = parseCsv<Record<string, string>>(csv1, { columns: true });
  assert.deepEqual(Object.keys(csvRows[0]!), [...BUCKET_EXPORT_COLUMNS]);
  assert.equal(sum(csvRows.map((r) => r.charge!)), reportBefore.totals.charge);
  assert.equal(sum(csvRows.map((r) => r.invoiced!)), new Decimal(reportBefore.totals.invoiced).toFixed(4));
  // Each row carries its RecordIds: together, every RecordId billed in the month.
  const billedKeys = await sys.db.pool.query<{ k: string }>(
    'SELECT DISTINCT record_key AS k FROM usage_charge WHERE provider_id = $1 AND billing_period = $2 ORDER BY 1',
    [provider.id, prev],
  );
  assert.deepEqual(
    [...new Set(csvRows.flatMap((r) => r.recordIds!.split(' ')))].sort(),
    billedKeys.rows.map((r) => r.k).sort(),
  );

  // Revisions arrive; an admin accepts them.
  sys.sim.dataset.epoch = 1;
  try {
    await runCycle();
  } finally {
    sys.sim.dataset.epoch = 0;
  }
  const group = await sys.db.pool.query<{ group_key: string }>(
    `SELECT DISTINCT group_key FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED' AND reason = 'DUPLICATE_USAGE' AND left(charge_start, 7) = $2 ORDER BY 1 LIMIT 1`,
    [provider.id, prev],
  );
  const groupKey = group.rows[0]!.group_key;
  const lines = await sys.db.pool.query<{ id: number; record_key: string }>(
    `SELECT id, record_key FROM usage_line WHERE group_key = $1 AND status = 'QUARANTINED' AND left(charge_start, 7) = $2`,
    [groupKey, prev],
  );
  const keys = lines.rows.map((l) => l.record_key);
  const outcome = await resolveGroup(sys.deps, groupKey, {
    action: 'acceptRevision',
    by: 'alice',
    requestId: randomUUID(),
  });
  assert.equal(outcome.outcome, 'APPLIED');
  await recordHistory(env.client.workflow.getHandle(groupWorkflowId(groupKey)), 'quarantine-group-accept-revision');
  assert.ok(outcome.billed >= lines.rows.length);

  const entries = await sys.db.pool.query<{
    record_key: string;
    entry: string;
    live: boolean;
    billing_period: string;
    usage_period: string;
    charge: string;
    reverses_charge_id: number | null;
    replaces_charge_id: number | null;
    id: number;
  }>(
    `SELECT id, record_key, entry, live, billing_period, usage_period, charge::text, reverses_charge_id, replaces_charge_id FROM usage_charge WHERE provider_id = $1 AND record_key = ANY($2::text[]) ORDER BY id`,
    [provider.id, keys],
  );
  for (const key of keys) {
    const e = entries.rows.filter((r) => r.record_key === key);
    assert.equal(e.length, 3, `${key}: the billed charge, its credit, the revision's charge`);
    const [old, credit, charge] = e as [(typeof e)[0], (typeof e)[0], (typeof e)[0]];
    assert.deepEqual(
      [old.entry, old.live, old.billing_period],
      ['CHARGE', false, prev],
      'the closed month keeps its charge',
    );
    assert.deepEqual(
      [credit.entry, credit.billing_period, credit.usage_period, credit.reverses_charge_id],
      ['CREDIT', cur, prev, old.id],
      'credit as an adjustment in the open month',
    );
    assert.equal(new Decimal(credit.charge).plus(old.charge).toFixed(), '0');
    assert.deepEqual(
      [charge.entry, charge.live, charge.billing_period, charge.usage_period, charge.replaces_charge_id],
      ['CHARGE', true, cur, prev, old.id],
    );
    assert.equal(e.filter((x) => x.live).length, 1, 'one live charge per RecordId');
  }
  // The same action from the CLI (an Update) and as a signal (the Web UI's "Send signal"), on the other groups.
  const others = await sys.db.pool.query<{ group_key: string }>(
    `SELECT DISTINCT group_key FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED' AND reason = 'DUPLICATE_USAGE' ORDER BY 1`,
    [provider.id],
  );
  assert.ok(others.rows.length >= 2, 'more revised groups');
  const [viaCli, viaSignal] = others.rows.map((r) => r.group_key) as [string, string];
  assert.match(await csp('quarantine', 'accept-revision', viaCli, '--by', 'bob'), /acceptRevision by bob/);
  await signalAction(env.client, viaSignal, { action: 'acceptRevision', by: 'carol' });
  for (let i = 0; i < 100; i++) {
    const left = await sys.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM usage_line WHERE group_key = $1 AND status = 'QUARANTINED'`,
      [viaSignal],
    );
    if (left.rows[0]!.n === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const oneLive = await sys.db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT record_key FROM usage_charge WHERE provider_id = $1 AND live GROUP BY record_key HAVING count(*) > 1) x`,
    [provider.id],
  );
  assert.equal(oneLive.rows[0]!.n, 0);
  const accepted = await sys.db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM quarantine_action WHERE action = 'acceptRevision' AND outcome = 'APPLIED' AND group_key = ANY($1::text[])`,
    [[viaCli, viaSignal]],
  );
  assert.equal(accepted.rows[0]!.n, 2, 'both audited');
  // In the open month the charge is replaced there: its credit and the new charge both in that month.
  const openMonth = await sys.db.pool.query<{ entry: string; billing_period: string; usage_period: string }>(
    `SELECT c.entry, c.billing_period, c.usage_period FROM usage_charge c
      WHERE c.provider_id = $1 AND c.usage_period = $2 AND (c.entry = 'CREDIT' OR c.replaces_charge_id IS NOT NULL)`,
    [provider.id, cur],
  );
  assert.ok(
    openMonth.rows.some((r) => r.entry === 'CREDIT') && openMonth.rows.some((r) => r.entry === 'CHARGE'),
    'revisions accepted in the open month',
  );
  assert.ok(openMonth.rows.every((r) => r.billing_period === cur));
  // Only revised lines can be accepted as revisions.
  const other = await sys.db.pool.query<{ group_key: string }>(
    `SELECT group_key FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED' AND reason = 'NO_RATE_CARD' LIMIT 1`,
    [provider.id],
  );
  const refused = await resolveGroup(sys.deps, other.rows[0]!.group_key, {
    action: 'acceptRevision',
    by: 'alice',
    requestId: randomUUID(),
  });
  assert.equal(refused.outcome, 'REJECTED');
  assert.match(refused.rejection ?? '', /DUPLICATE_USAGE/);

  // A late charge for the closed month (any writer) lands in the next open month, as an adjustment.
  const spare = await sys.db.pool.query<{ id: number; record_key: string; service_id: string }>(
    `SELECT l.id, l.record_key, (SELECT id FROM service WHERE provider_id = $1 LIMIT 1) AS service_id FROM usage_line l
      WHERE l.provider_id = $1 AND l.status = 'QUARANTINED' AND l.record_key <> ''
        AND NOT EXISTS (SELECT 1 FROM usage_charge c WHERE c.provider_id = l.provider_id AND c.record_key = l.record_key) LIMIT 1`,
    [provider.id],
  );
  // A writer that says it routed its charges itself (the usage pipeline) and did not is refused.
  const writer = await sys.db.pool.connect();
  try {
    await writer.query(`BEGIN; SET LOCAL csp.charge_periods_routed = on`);
    await assert.rejects(
      writer.query(
        `INSERT INTO usage_charge (usage_line_id, provider_id, record_key, service_id, billing_period, usage_period, product_key, units, unit_rate, billable_ratio, carrier_cost, charge, margin, rule_kind, charge_start, charge_end)
         VALUES ($1, $2, $3, $4, $5, $5, 'p', 1, 1, 1, 1, 1, 0, 'price', 'a', 'b')`,
        [spare.rows[0]!.id, provider.id, spare.rows[0]!.record_key, spare.rows[0]!.service_id, prev],
      ),
      /billing period .* is closed: no charge can be added/,
    );
  } finally {
    await writer.query('ROLLBACK');
    writer.release();
  }
  const late = await sys.db.pool.query<{ billing_period: string; usage_period: string }>(
    `INSERT INTO usage_charge (usage_line_id, provider_id, record_key, service_id, billing_period, product_key, units, unit_rate, billable_ratio, carrier_cost, charge, margin, rule_kind, charge_start, charge_end)
     VALUES ($1, $2, $3, $4, $5, 'p', 1, 1, 1, 1, 1, 0, 'price', 'a', 'b') RETURNING billing_period, usage_period`,
    [spare.rows[0]!.id, provider.id, spare.rows[0]!.record_key, spare.rows[0]!.service_id, prev],
  );
  assert.deepEqual(late.rows[0], { billing_period: cur, usage_period: prev });
  await sys.db.pool.query(`DELETE FROM usage_charge WHERE record_key = $1 AND provider_id = $2`, [
    spare.rows[0]!.record_key,
    provider.id,
  ]);

  const reportAfter = await buildChargesReport(sys.db.pool, provider, prev, 'service');
  assert.deepEqual(reportAfter, reportBefore, "the closed month's report is unchanged");
  assert.equal(await buildExport(sys.db.pool, provider, prev, 'xero'), xero1, "the closed month's export is unchanged");
  const curReport = await buildChargesReport(sys.db.pool, provider, cur, 'customer');
  assert.ok(curReport.totals.adjustmentLines >= 2 * keys.length);

  // Reopening needs a reason; both are audited.
  await assert.rejects(reopenPeriod(sys.db.pool, provider.id, prev, 'bob', '  '), /reason/);
  await reopenPeriod(sys.db.pool, provider.id, prev, 'bob', 'customer disputed a line');
  const periods = await listPeriods(sys.db.pool, provider.id);
  assert.deepEqual(
    periods.find((p) => p.period === prev)!.events.map((e) => [e.action, e.actor, e.reason]),
    [
      ['close', 'alice', null],
      ['reopen', 'bob', 'customer disputed a line'],
    ],
  );
  // The CLI's list: each row the status its event left the month in, at the provider's local time.
  const listed = (await csp('period', 'list', '--provider', provider.id)).split('\n').filter((l) => l.includes(prev));
  assert.equal(listed.length, 2);
  assert.match(listed[0]!, /close\s+CLOSED\s+alice/);
  assert.match(listed[1]!, /reopen\s+OPEN \(now\)\s+bob\s+customer disputed a line/);
  const zone = new Intl.DateTimeFormat('en-AU', { timeZone: provider.time_zone, timeZoneName: 'short' })
    .formatToParts(new Date())
    .find((p) => p.type === 'timeZoneName')!.value;
  assert.match(listed[1]!, new RegExp(`\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d ${zone}`));
});
