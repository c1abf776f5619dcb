import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseCsv } from 'csv-parse/sync';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { localTemporal } from './support/temporal';
import { startTestSystem, type TestSystem } from './support/system';
import { cliEnv, runCli } from './support/cli';
import { runUsageCycleNow } from '../workflows/usage-cycle.api';
import { buildExport } from '../client/month-end';
import { neutralizeCell, toCsv } from '../client/csv';
import type { ProviderView } from '../db/providers';

const EVIL = '=HYPERLINK("http://evil/","x")';

test('a CSV cell that a spreadsheet would run as a formula gets a leading quote; numbers stay numbers', () => {
  for (const [cell, shown] of [
    [EVIL, `'${EVIL}`],
    ['+cmd|calc', "'+cmd|calc"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1', "'\t=1"],
    ['\r=1', "'\r=1"],
    ['-12.50', '-12.50'],
    ['+3', '+3'],
    ['12.5', '12.5'],
    ['Contoso = good', 'Contoso = good'],
    ['', ''],
  ] as const)
    assert.equal(neutralizeCell(cell), shown, JSON.stringify(cell));
  const csv = toCsv([{ name: EVIL, amount: '-12.50' }], ['name', 'amount']);
  assert.deepEqual(parseCsv(csv, { columns: true }), [{ name: `'${EVIL}`, amount: '-12.50' }]);
});

let env: TestWorkflowEnvironment;
let sys: TestSystem;
let provider: ProviderView;

before(async () => {
  env = await localTemporal();
  sys = await startTestSystem(env, { usageRecords: 200, pageSize: 100 });
  // A customer whose name, as the carrier gives it, is a spreadsheet formula.
  sys.sim.dataset.providers[0]!.tenants[0]!.customerName = EVIL;
  provider = await sys.onboardSimProvider(0);
  await runUsageCycleNow(
    { temporal: env.client, taskQueue: sys.taskQueue },
    { providerId: provider.id },
    `csv-cycle-${provider.id}`,
  );
});
after(async () => {
  await sys?.stop();
  await env?.teardown();
});

function formulaCells(csv: string): string[] {
  const rows: string[][] = parseCsv(csv);
  return rows.flat().filter((c) => /^[=+\-@\t\r]/.test(c) && !/^[+-]?\d+(\.\d+)?$/.test(c));
}

test('a carrier customer named as a formula reaches every export as text, never as a formula', async () => {
  const period = sys.sim.dataset.usageMonth;
  for (const format of ['xero', 'csv'] as const) {
    const csv = await buildExport(sys.db.pool, provider, period, format);
    assert.deepEqual(formulaCells(csv), [], `${format}: no cell starts a formula`);
    const rows: Array<Record<string, string>> = parseCsv(csv, { columns: true });
    const named = rows.filter((r) => (r['*ContactName'] ?? r.customer) === `'${EVIL}`);
    assert.ok(named.length > 0, `${format}: the customer's lines are there, its name as text`);
  }
  const report = await runCli(
    ['billing', 'report', '--provider', provider.id, '--period', period, '--csv'],
    cliEnv(sys, env),
  );
  assert.equal(report.code, 0, report.err);
  assert.deepEqual(formulaCells(report.out), [], 'billing report --csv: no cell starts a formula');
  assert.ok(report.out.includes(`"'=HYPERLINK(""http://evil/"",""x"")"`), report.out.slice(0, 500));
});

test("an account code must be Xero's (letters and digits, at most 10): a formula is refused with the rule", async () => {
  const refused = await runCli(
    ['billing', 'configure', '--provider', provider.id, '--by', 'admin', '--account-code', EVIL],
    cliEnv(sys, env),
  );
  assert.equal(refused.code, 2, refused.err);
  assert.match(refused.err, /--account-code must be Xero's account code: 1 to 10 letters or digits/);
  for (const bad of ['12345678901', '20 0', '-200', '']) {
    const r = await runCli(
      ['billing', 'configure', '--provider', provider.id, '--by', 'admin', '--account-code', bad],
      cliEnv(sys, env),
    );
    assert.equal(r.code, 2, `${JSON.stringify(bad)}: ${r.err}`);
  }
  const ok = await runCli(
    ['billing', 'configure', '--provider', provider.id, '--by', 'admin', '--account-code', 'SALES42', '--json'],
    cliEnv(sys, env),
  );
  assert.equal(ok.code, 0, ok.err);
  const csv = await buildExport(sys.db.pool, provider, sys.sim.dataset.usageMonth, 'xero');
  const rows: Array<Record<string, string>> = parseCsv(csv, { columns: true });
  assert.ok(rows.every((r) => r['*AccountCode'] === 'SALES42'));
});
