import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startOneProviderSystem, type OneProviderSystem } from './support/one-provider';
import { waitFor } from './support/wait';
import { recordHistory } from './support/histories';
import type { TestSystem } from './support/system';
import { cancelService, reactivateService } from '../workflows/tenant.api';
import { previewCancelCredits } from '../db/corrections';
import { tenantActivities } from '../activities/tenant';
import { Decimal } from '../core/money';
import { cliEnv, runCli } from './support/cli';
import { setRateRule } from '../db/rates';
import { closePeriod, reopenPeriod } from '../db/billing-periods';
import { previewRerate } from '../activities/rerate';
import { RerateRefused, runRerate } from '../workflows/rerate.api';

// Corrections after billing, against the real system (Temporal dev server, worker, PostgreSQL,
// simulator): a cancel from a past date credits what was billed from that date on, and a
// reactivation bills it again, so the service's net charge comes back exactly.

let env: TestWorkflowEnvironment;
let sys: TestSystem;
let providerId: string;

let one: OneProviderSystem;

before(async () => {
  one = await startOneProviderSystem({ usageRecords: 400, cycleId: 'corrections-cycle-1' });
  ({ env, sys } = one);
  providerId = one.provider.id;
});
after(async () => {
  await one?.stop();
});

/** The service's billed total (every entry, credits included), its live charges and entries. */
async function ledger(serviceId: string) {
  const r = await sys.db.pool.query<{ net: string; live: number; entries: number; credits: number }>(
    `SELECT coalesce(sum(charge), 0)::text AS net, count(*) FILTER (WHERE live)::int AS live, count(*)::int AS entries,
            count(*) FILTER (WHERE entry = 'CREDIT')::int AS credits
       FROM usage_charge WHERE service_id = $1`,
    [serviceId],
  );
  return r.rows[0]!;
}

/** A service with billed lines on at least two charge start dates, and the later of two such dates. */
async function billedService(): Promise<{ serviceId: string; tenantId: string; from: string }> {
  const r = await sys.db.pool.query<{ service_id: string; tenant_id: string; from: string }>(
    `SELECT c.service_id, s.tenant_id, max(left(c.charge_start, 10)) AS from
       FROM usage_charge c JOIN service s ON s.id = c.service_id
      WHERE c.provider_id = $1 AND c.live AND s.cancelled_on IS NULL
      GROUP BY 1, 2 HAVING count(DISTINCT left(c.charge_start, 10)) > 1
      ORDER BY count(*) DESC LIMIT 1`,
    [providerId],
  );
  const row = r.rows[0] ?? assert.fail('the demo has a service billed on two dates');
  return { serviceId: row.service_id, tenantId: row.tenant_id, from: row.from };
}

test('a cancel from a past date credits what was billed from that date on, and reactivating bills it again: the net charge returns exactly', async () => {
  const { serviceId, tenantId, from } = await billedService();
  const before = await ledger(serviceId);
  const expected = await sys.db.pool.query<{ lines: number; amount: string }>(
    `SELECT count(*)::int AS lines, sum(charge)::text AS amount FROM usage_charge
      WHERE service_id = $1 AND live AND left(charge_start, 10) >= $2`,
    [serviceId, from],
  );
  const preview = await previewCancelCredits(sys.db.pool, providerId, serviceId, from);
  assert.equal(preview.lines, expected.rows[0]!.lines);
  assert.ok(preview.lines > 0 && preview.lines < before.live, 'some lines, not all');
  assert.ok(new Decimal(preview.amount).equals(expected.rows[0]!.amount));
  assert.deepEqual(await ledger(serviceId), before, 'a preview changes nothing');

  const tenant = { providerId, tenantId };
  const cancelled = await cancelService(env.client, tenant, { by: 'alice', effectiveDate: from });
  assert.equal(cancelled.cancelledOn, from);
  assert.deepEqual(cancelled.credited, preview, 'the cancel credits what its preview said');

  const after = await ledger(serviceId);
  assert.ok(new Decimal(after.net).equals(new Decimal(before.net).minus(preview.amount)), 'credited exactly');
  assert.equal(after.credits - before.credits, preview.lines, 'one CREDIT entry per credited charge');
  assert.equal(after.live, before.live - preview.lines);
  const requarantined = await sys.db.pool.query<{ n: number; groups: number }>(
    `SELECT count(*)::int AS n, count(DISTINCT group_key)::int AS groups FROM usage_line
      WHERE service_id = $1 AND status = 'QUARANTINED' AND reason = 'SERVICE_INACTIVE' AND left(charge_start, 10) >= $2`,
    [serviceId, from],
  );
  assert.equal(requarantined.rows[0]!.n, preview.lines, 'the credited lines are back in quarantine');
  // Their group was told (signal-with-start): its workflow runs and counts them.
  const groupKey = (
    await sys.db.pool.query<{ group_key: string }>(
      `SELECT DISTINCT group_key FROM usage_line WHERE service_id = $1 AND status = 'QUARANTINED' AND reason = 'SERVICE_INACTIVE'`,
      [serviceId],
    )
  ).rows[0]!.group_key;
  const groupId = `quarantine:${groupKey.split('|').join(':')}`;
  await waitFor(
    'the SERVICE_INACTIVE group was told',
    async () => (await env.client.workflow.getHandle(groupId).describe()).status.name === 'RUNNING',
  );

  // Retried (at least once): the recorded change and its credit summary, nothing credited twice.
  const again = await tenantActivities(sys.deps).applyLicenceChange({
    providerId,
    tenantId,
    serviceId,
    changeId: cancelled.changeId,
    by: 'alice',
    change: { kind: 'cancelService', effectiveDate: from },
  });
  assert.deepEqual(again.credited, preview);
  assert.deepEqual(await ledger(serviceId), after);

  await reactivateService(env.client, tenant, { by: 'alice' });
  await waitFor(
    'the reactivation billed the credited lines again',
    async () => (await ledger(serviceId)).live === before.live,
    60_000,
  );
  const restored = await ledger(serviceId);
  assert.ok(new Decimal(restored.net).equals(before.net), `net ${restored.net} against ${before.net}`);
  const oneLive = await sys.db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT record_key FROM usage_charge WHERE service_id = $1 AND live
       GROUP BY record_key HAVING count(*) > 1) twice`,
    [serviceId],
  );
  assert.equal(oneLive.rows[0]!.n, 0, 'one live charge per RecordId');
});

test("re-rating a month applies today's rate card: a preview first, then credits and new charges that add up exactly; a second run changes nothing; a closed month is refused", async () => {
  const top = await sys.db.pool.query<{ period: string; product: string }>(
    `SELECT billing_period AS period, product_key AS product FROM usage_charge
      WHERE provider_id = $1 AND live GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1`,
    [providerId],
  );
  const { period, product } = top.rows[0] ?? assert.fail('the demo billed something');
  const monthNet = async () =>
    (
      await sys.db.pool.query<{ net: string }>(
        `SELECT coalesce(sum(charge), 0)::text AS net FROM usage_charge WHERE provider_id = $1 AND billing_period = $2`,
        [providerId, period],
      )
    ).rows[0]!.net;
  // A rate fixed after the month was billed: 33.3 % over cost for the product.
  await setRateRule(sys.db.pool, providerId, { productId: product, kind: 'markup', value: new Decimal('33.3') });
  const scope = { providerId, period, productId: product };
  const preview = await previewRerate(sys.db.pool, scope);
  assert.ok(preview.lines > 0, 'the new rate re-prices some charges');
  const customersAdd = preview.byCustomer.reduce((t, c) => t.plus(c.delta), new Decimal(0));
  assert.ok(customersAdd.equals(preview.delta), 'the customers add up to the total');
  assert.ok(new Decimal(preview.newCharge).minus(preview.oldCharge).equals(preview.delta));
  const before = await monthNet();

  const starter = { temporal: env.client, taskQueue: sys.taskQueue };
  const run = await runRerate(starter, { ...scope, by: 'alice' });
  assert.equal(run.status, 'completed');
  const result = run.status === 'completed' ? run.result : assert.fail();
  assert.match(run.workflowId, new RegExp(`^rerate:${providerId}:${period}:`));
  await recordHistory(env.client.workflow.getHandle(run.workflowId), 'rerate');
  assert.deepEqual(
    { lines: result.lines, oldCharge: result.oldCharge, newCharge: result.newCharge, delta: result.delta },
    { lines: preview.lines, oldCharge: preview.oldCharge, newCharge: preview.newCharge, delta: preview.delta },
    'the re-rate did what its preview said',
  );
  assert.deepEqual(
    result.byCustomer.map((c) => [c.customer, c.lines, c.delta]),
    preview.byCustomer.map((c) => [c.customer, c.lines, c.delta]),
  );
  assert.ok(new Decimal(await monthNet()).equals(new Decimal(before).plus(preview.delta)), 'the month moved by delta');
  const entries = await sys.db.pool.query<{ entry: string; n: number }>(
    `SELECT entry, count(*)::int AS n FROM usage_charge WHERE cycle_id = $1 GROUP BY 1 ORDER BY 1`,
    [run.workflowId],
  );
  assert.deepEqual(
    entries.rows.map((r) => [r.entry, r.n]),
    [
      ['CHARGE', preview.lines],
      ['CREDIT', preview.lines],
    ],
    'a credit and a new charge per changed charge, never an edit',
  );

  const again = await runRerate(starter, { ...scope, by: 'alice' });
  assert.equal(again.status === 'completed' && again.result.lines, 0, 'running it again changes nothing');
  assert.equal((await previewRerate(sys.db.pool, scope)).lines, 0);

  await closePeriod(sys.db.pool, providerId, period, 'alice');
  try {
    await assert.rejects(runRerate(starter, { ...scope, by: 'alice' }), (err: Error) => {
      assert.ok(err instanceof RerateRefused, String(err));
      assert.match(err.message, /is closed: reopen it first/);
      return true;
    });
  } finally {
    await reopenPeriod(sys.db.pool, providerId, period, 'alice', 'the re-rate test is done');
  }
});

test('the CLI: a rate change names the open months it re-prices; billing rerate previews and applies them (--json), twice changes nothing, a closed month exits 2; tenant cancel --preview changes nothing', async () => {
  const cli = cliEnv(sys, env);
  const top = await sys.db.pool.query<{ period: string; product: string }>(
    `SELECT billing_period AS period, product_key AS product FROM usage_charge
      WHERE provider_id = $1 AND live GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1`,
    [providerId],
  );
  const { period, product } = top.rows[0]!;
  const set = await runCli(
    ['rates', 'set', providerId, '--product', product, '--kind', 'markup', '--value', '12.5', '--by', 'alice'],
    cli,
  );
  assert.equal(set.code, 0, set.err);
  const hint = new RegExp(`open month\\(s\\) with charges this change re-prices: .*${period} \\((\\d+)\\)`).exec(
    set.out,
  );
  assert.ok(hint, set.out);
  assert.match(
    set.out,
    new RegExp(`billing rerate --provider ${providerId} --period \\d{4}-\\d{2} --product ${product}`),
  );

  const rerate = (...extra: string[]) =>
    runCli(['billing', 'rerate', '--provider', providerId, '--period', period, '--product', product, ...extra], cli);
  const preview = await rerate('--json');
  assert.equal(preview.code, 0, preview.err);
  const previewed = JSON.parse(preview.out) as {
    applied: boolean;
    lines: number;
    delta: string;
    byCustomer: unknown[];
  };
  assert.equal(previewed.applied, false);
  assert.ok(previewed.byCustomer.length > 0);
  const applied = await rerate('--apply', '--by', 'alice', '--json');
  assert.equal(applied.code, 0, applied.err);
  const result = JSON.parse(applied.out) as typeof previewed & { providerId: string; period: string };
  assert.deepEqual(
    [result.providerId, result.period, result.applied, result.lines, result.delta],
    [providerId, period, true, previewed.lines, previewed.delta],
  );
  const twice = await rerate('--apply', '--by', 'alice');
  assert.equal(twice.code, 0, twice.err);
  assert.match(twice.out, /no charge changes under today’s rate card/);

  await closePeriod(sys.db.pool, providerId, period, 'alice');
  try {
    const refused = await rerate('--apply', '--by', 'alice');
    assert.equal(refused.code, 2);
    assert.match(refused.err, /is closed: reopen it first/);
  } finally {
    await reopenPeriod(sys.db.pool, providerId, period, 'alice', 'the CLI test is done');
  }

  const tenant = await sys.db.pool.query<{ tenant_domain: string; id: string }>(
    `SELECT s.tenant_domain, s.id FROM service s JOIN usage_charge c ON c.service_id = s.id
      WHERE s.provider_id = $1 AND c.live AND s.cancelled_on IS NULL GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1`,
    [providerId],
  );
  const before = await ledger(tenant.rows[0]!.id);
  const cancelPreview = await runCli(
    ['tenant', 'cancel', tenant.rows[0]!.tenant_domain, '--date', '2000-01-01', '--preview', '--json'],
    cli,
  );
  assert.equal(cancelPreview.code, 0, cancelPreview.err);
  const credited = (
    JSON.parse(cancelPreview.out) as { preview: boolean; credited: { lines: number; currency: string } }
  ).credited;
  assert.equal(credited.lines, before.live, 'from a date before every line: all of them');
  assert.equal(credited.currency, 'AUD');
  assert.deepEqual(await ledger(tenant.rows[0]!.id), before, 'a preview changes nothing');
});
