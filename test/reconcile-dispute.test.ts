import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseCsv } from 'csv-parse/sync';
import type { TestSystem } from './support/system';
import { cliEnv, runCli } from './support/cli';
import { startOneProviderSystem, type OneProviderSystem } from './support/one-provider';
import { AMOUNT_DIFFERENCE, buildInvoice } from '../carrier/simulator/invoices';
import { previousMonth } from '../carrier/simulator/dataset';
import { Decimal } from '../core/money';
import type { ProviderView } from '../db/providers';

// `csp invoice reconcile --csv`: the dispute list to send to the carrier, every differing line
// with its customer, product name and amounts rounded once to 2 places, cells neutralised.
let one: OneProviderSystem;
let sys: TestSystem;
let provider: ProviderView;
let period: string;

before(async () => {
  one = await startOneProviderSystem({
    usageRecords: 600,
    cycleId: 'dispute-1',
    // A customer name a spreadsheet would run as a formula (names come from the carrier).
    prepare: (s) =>
      (s.sim.dataset.providers[0]!.tenants[0]!.customerName = '=HYPERLINK("http://evil.example/","Contoso")'),
  });
  ({ sys, provider, period } = one);
});
after(() => one?.stop());

const csp = (...args: string[]) => one.csp(...args);

const COLUMNS = ['RecordId', 'class', 'customer', 'product', 'invoiced', 'received', 'difference'];

test('invoice reconcile --csv lists every differing line, to the cent, with names, and nothing else', async () => {
  const json = await csp('invoice', 'reconcile', '--provider', provider.id, '--period', period, '--json');
  assert.equal(json.code, 0, json.err);
  const report = JSON.parse(json.out) as {
    differencesTotal: number;
    classes: Record<string, { lines: number }>;
    differences: Array<{ recordId: string; class: string; invoiced: string | null; received: string | null }>;
  };
  const run = await csp('invoice', 'reconcile', '--provider', provider.id, '--period', period, '--csv');
  assert.equal(run.code, 0, run.err);
  assert.equal(run.out.split('\r\n')[0], COLUMNS.join(','), 'the columns, exactly, in order');
  const rows = parseCsv<Record<string, string>>(run.out, { columns: true });
  const differing = Object.entries(report.classes)
    .filter(([c]) => c !== 'MATCHED')
    .reduce((n, [, x]) => n + x.lines, 0);
  assert.ok(differing > 0, 'the demo invoice has differences');
  assert.equal(rows.length, differing, 'one row per differing line, none MATCHED');
  assert.equal(report.differencesTotal, differing);
  assert.ok(rows.every((r) => r.class !== 'MATCHED'));

  // The planted differences, each in its class with its exact amounts rounded once.
  const planted = buildInvoice(sys.sim.dataset, sys.sim.dataset.providers[0]!, period).planted;
  for (const [cls, ids] of Object.entries(planted))
    for (const id of ids) assert.equal(rows.find((r) => r.RecordId === id)?.class, cls, `${id} is listed as ${cls}`);
  const two = (v: string | null) =>
    v === null ? '' : new Decimal(v).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
  for (const d of report.differences) {
    const row = rows.find((r) => r.RecordId === d.recordId && r.class === d.class)!;
    assert.ok(row, `${d.recordId} is in the dispute list`);
    assert.equal(row.invoiced, two(d.invoiced));
    assert.equal(row.received, two(d.received));
  }
  for (const r of rows) {
    for (const c of ['invoiced', 'received', 'difference'])
      assert.match(r[c]!, /^(-?\d+\.\d\d)?$/, `${c} of ${r.RecordId} has 2 places: ${r[c]}`);
    assert.ok(r.customer, `${r.RecordId} names its customer`);
    assert.ok(r.product && !/^[0-9a-f]{8}-/.test(r.product), `${r.RecordId} names its product: ${r.product}`);
  }
  for (const r of rows.filter((x) => x.class === 'AMOUNT_DIFFERS'))
    assert.equal(r.difference, new Decimal(AMOUNT_DIFFERENCE).toFixed(2), 'the planted amount difference');
  for (const r of rows.filter((x) => x.class === 'NOT_ON_INVOICE')) {
    assert.equal(r.invoiced, '');
    assert.equal(r.difference, new Decimal(r.received!).negated().toFixed(2));
  }
  // A cell a spreadsheet would run as a formula is neutralised.
  const evil = rows.filter((r) => r.customer!.includes('HYPERLINK'));
  assert.ok(evil.length > 0, 'the formula-like customer has differing lines');
  for (const r of evil) assert.ok(r.customer!.startsWith(`'=`), r.customer);
});

test('invoice reconcile refuses --json with --csv, and a bad period, before anything runs', async () => {
  const both = await csp('invoice', 'reconcile', '--provider', provider.id, '--period', period, '--json', '--csv');
  assert.equal(both.code, 2);
  assert.match(both.err, /choose one of --json and --csv/);
  const bad = await csp('invoice', 'reconcile', '--provider', provider.id, '--period', '2026-13', '--csv');
  assert.equal(bad.code, 2);
  assert.equal(bad.out, '');
});

test('invoice reconcile waits at most the admin wait, then says the run is still going (exit 0)', async () => {
  // No worker polls this queue: the run cannot finish. Another month, so no other test joins it.
  const stuck = cliEnv(sys, one.env, {
    LOG_LEVEL: 'silent',
    TASK_QUEUE: `nobody-${Date.now()}`,
    ADMIN_WAIT_SECONDS: '2',
  });
  const older = previousMonth(previousMonth(period));
  const started = Date.now();
  const text = await runCli(['invoice', 'reconcile', '--provider', provider.id, '--period', older, '--csv'], stuck);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^accepted: invoice-reconciliation:\S+ is still running; run the same command again/);
  assert.ok(Date.now() - started < 30_000, 'it did not hang');
  const json = await runCli(['invoice', 'reconcile', '--provider', provider.id, '--period', older, '--json'], stuck);
  assert.deepEqual(JSON.parse(json.out), {
    accepted: true,
    running: true,
    workflowId: `invoice-reconciliation:${provider.id}:${older}`,
  });
});
