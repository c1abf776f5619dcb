import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { localTemporal } from './support/temporal';
import { waitFor } from './support/wait';
import { startTestSystem, type TestSystem } from './support/system';
import { runUsageCycleNow } from '../workflows/usage-cycle.api';
import { groupState, groupWorkflowId, resolveGroup, signalAction } from '../workflows/quarantine-group.api';
import { CSP_CARRIER } from '../workflows/search-attributes';
import { setRateRule } from '../db/rates';
import { Decimal } from '../core/money';
import { UNRATED_PRODUCT_NAME } from '../carrier/simulator/dataset';
import { autoCleanse } from '../activities/quarantine-notify';
import { recordHistory } from './support/histories';

let env: TestWorkflowEnvironment;
let sys: TestSystem;
let providerId: string;

before(async () => {
  env = await localTemporal();
  sys = await startTestSystem(env, { usageRecords: 400, pageSize: 100 });
  providerId = (await sys.onboardSimProvider(0)).id;
  await runUsageCycleNow(sys.deps, { providerId }, 'q-cycle-1');
});
after(async () => {
  await sys?.stop();
  await env?.teardown();
});

async function groups(reason: string) {
  const r = await sys.db.pool.query<{ group_key: string; n: number }>(
    `SELECT group_key, count(*)::int AS n FROM usage_line WHERE provider_id = $1 AND reason = $2 AND status = 'QUARANTINED' GROUP BY 1 ORDER BY 1`,
    [providerId, reason],
  );
  return r.rows;
}

async function statuses(groupKey: string, ids?: number[]) {
  const r = await sys.db.pool.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM usage_line WHERE ${ids ? 'id = ANY($1::bigint[])' : 'group_key = $1'} GROUP BY 1`,
    [ids ?? groupKey],
  );
  return Object.fromEntries(r.rows.map((x) => [x.status, x.n]));
}

async function chargesFor(ids: number[]) {
  return (
    await sys.db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM usage_charge WHERE usage_line_id = ANY($1::bigint[])',
      [ids],
    )
  ).rows[0]!.n;
}

async function audit(groupKey: string) {
  return (
    await sys.db.pool.query<{
      action: string;
      actor: string;
      outcome: string;
      rejection: string | null;
      billed: number;
      written_off: number;
      line_ids: number[];
    }>(
      'SELECT action, actor, outcome, rejection, billed, written_off, line_ids FROM quarantine_action WHERE group_key = $1 ORDER BY id',
      [groupKey],
    )
  ).rows;
}

test('every quarantined line is in a group workflow, findable by its search attributes', async () => {
  const all = await sys.db.pool.query<{ group_key: string }>(
    `SELECT DISTINCT group_key FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED'`,
    [providerId],
  );
  assert.ok(all.rows.length >= 5);
  for (const g of all.rows) {
    const state = await waitFor('group summary', async () => {
      const s = await groupState(env.client, g.group_key);
      return s.summary ? s : undefined;
    });
    assert.ok(state.summary!.lines > 0);
  }
  const found = await waitFor('visibility', async () => {
    const list: string[] = [];
    for await (const wf of env.client.workflow.list({
      query: `CspCarrier = 'Rhipe - Microsoft' AND CspProviderId = '${providerId}' AND CspQuarantineReason = 'NON_EXISTENT_SERVICE'`,
    }))
      list.push(wf.workflowId);
    return list.length > 0 ? list : undefined;
  });
  assert.ok(found.every((id) => id.includes('NON_EXISTENT_SERVICE')));
});

test('allocate bills exactly the group once, even sent twice and across a worker restart; the next cycle bills the tenant directly', async () => {
  const [group] = await groups('NON_EXISTENT_SERVICE');
  assert.ok(group);
  const lineIds = (
    await sys.db.pool.query<{ id: number }>(
      `SELECT id FROM usage_line WHERE group_key = $1 AND status = 'QUARANTINED'`,
      [group.group_key],
    )
  ).rows.map((r) => r.id);
  const serviceId = (
    await sys.db.pool.query<{ id: string }>('SELECT id FROM service WHERE provider_id = $1 ORDER BY id LIMIT 1', [
      providerId,
    ])
  ).rows[0]!.id;
  const handle = env.client.workflow.getHandle(groupWorkflowId(group.group_key));
  await signalAction(env.client, group.group_key, {
    action: 'allocate',
    serviceId,
    by: 'alice',
    note: 'same customer, new tenant',
  });
  await signalAction(env.client, group.group_key, {
    action: 'allocate',
    serviceId,
    by: 'alice',
    note: 'sent twice by mistake',
  });
  await sys.restartWorker();
  const result = await handle.result();
  assert.equal(result.summary!.lines, 0);
  assert.deepEqual(await statuses('', lineIds), { COMPLETED: lineIds.length });
  assert.equal(await chargesFor(lineIds), lineIds.length);
  const trail = await audit(group.group_key);
  assert.deepEqual(
    trail.map((a) => [a.action, a.actor, a.outcome]),
    [
      ['allocate', 'alice', 'APPLIED'],
      ['allocate', 'alice', 'REJECTED'],
    ],
  );
  assert.equal(trail[0]!.billed, lineIds.length);
  assert.match(trail[1]!.rejection!, /no quarantined lines/);
  await recordHistory(handle, 'quarantine-group-allocate');

  // The allocation is remembered: new usage for that tenant is billed without quarantine.
  const tenantId = group.group_key.split('|')[2]!;
  const p = sys.sim.dataset.providers[0]!;
  const tenant = p.tenants[0]!;
  const fake = { ...tenant, tenantId };
  sys.sim.dataset.addChangeLine(p, fake, tenant.subscriptions[0]!, 1, new Date());
  const next = await runUsageCycleNow(sys.deps, { providerId }, 'q-cycle-2');
  assert.equal(next.billed, 1);
  assert.equal(next.quarantined, 0);
});

test('cleanse after nothing changed re-quarantines; after adding a rate it bills (auto-cleanse)', async () => {
  const [group] = await groups('NO_RATE_CARD');
  assert.ok(group);
  const handle = env.client.workflow.getHandle(groupWorkflowId(group.group_key));
  const first = await resolveGroup(sys.deps, group.group_key, { action: 'cleanse', by: 'bob' });
  assert.equal(first.outcome, 'APPLIED');
  assert.equal(first.billed, 0);
  assert.equal(first.requarantined, group.n);
  assert.deepEqual(await statuses(group.group_key), { QUARANTINED: group.n });

  const visio = sys.sim.dataset.products.find((x) => x.name === UNRATED_PRODUCT_NAME)!;
  // A price stored before rates were bounded at input: its charges cannot be stored. The cleanse
  // is recorded as rejected with the data error, the lines stay quarantined, the group waits on.
  await sys.db.pool.query(
    `INSERT INTO rate_rule (provider_id, product_id, service_id, kind, value) VALUES ($1, lower($2), NULL, 'price', $3::numeric)`,
    [providerId, visio.productId, '9'.repeat(41)],
  );
  const overflow = await resolveGroup(sys.deps, group.group_key, { action: 'cleanse', by: 'bob' });
  assert.deepEqual([overflow.billed, overflow.requarantined], [0, group.n]);
  assert.deepEqual(await statuses(group.group_key), { QUARANTINED: group.n });
  const why = await sys.db.pool.query<{ reason_detail: string }>(
    `SELECT reason_detail FROM usage_line WHERE group_key = $1`,
    [group.group_key],
  );
  assert.ok(
    why.rows.every((r) => /not billed: .*SQLSTATE 22003/.test(r.reason_detail)),
    why.rows[0]?.reason_detail,
  );
  assert.equal((await handle.describe()).status.name, 'RUNNING');
  await sys.db.pool.query(`DELETE FROM rate_rule WHERE provider_id = $1 AND product_id = lower($2)`, [
    providerId,
    visio.productId,
  ]);

  await setRateRule(sys.db.pool, providerId, {
    productId: visio.productId,
    kind: 'markup',
    value: new Decimal('12.5'),
  });
  await autoCleanse({ pool: sys.db.pool, temporal: env.client, taskQueue: sys.taskQueue }, providerId, {
    kind: 'rateAdded',
    productId: visio.productId,
  });
  const state = await handle.result();
  assert.equal(state.summary!.lines, 0);
  const trail = await audit(group.group_key);
  assert.deepEqual(
    trail.map((a) => [a.action, a.actor, a.outcome]),
    [
      ['cleanse', 'bob', 'APPLIED'],
      ['cleanse', 'bob', 'APPLIED'],
      ['cleanse', 'system:auto-cleanse', 'APPLIED'],
    ],
  );
  assert.equal(trail[2]!.billed, group.n);
  assert.equal(await chargesFor(trail[2]!.line_ids), group.n);
});

test('write-off bills nothing; a write-off without a reason and other nonsense are rejected and change nothing', async () => {
  const [group] = await groups('CURRENCY_MISMATCH');
  assert.ok(group);
  const handle = env.client.workflow.getHandle(groupWorkflowId(group.group_key));
  // Refused, and recorded as refused: the Update path keeps the same audit trail as signals.
  const noReason = await resolveGroup(sys.deps, group.group_key, { action: 'writeOff', by: 'carol', reason: '' });
  assert.equal(noReason.outcome, 'REJECTED');
  assert.match(noReason.rejection!, /needs a reason/);
  const nobody = await resolveGroup(sys.deps, group.group_key, { action: 'cleanse', by: '' });
  assert.match(nobody.rejection!, /by .* is required/);
  await assert.rejects(
    resolveGroup(sys.deps, group.group_key, { action: 'delete' as 'cleanse', by: 'carol' }),
    WorkflowUpdateFailedError,
  );
  const otherProvider = await sys.onboardSimProvider(1, { withRateCard: false });
  const foreign = (
    await sys.db.pool.query<{ id: string }>('SELECT id FROM service WHERE provider_id = $1 LIMIT 1', [otherProvider.id])
  ).rows[0]!.id;
  const foreignResult = await resolveGroup(sys.deps, group.group_key, {
    action: 'allocate',
    serviceId: foreign,
    by: 'carol',
  });
  assert.equal(foreignResult.outcome, 'REJECTED');
  assert.match(foreignResult.rejection!, /belongs to another provider/);
  const unknown = await resolveGroup(sys.deps, group.group_key, {
    action: 'allocate',
    serviceId: 'S-999999',
    by: 'carol',
  });
  assert.match(unknown.rejection!, /does not exist/);
  // A signal from the Web UI without a reason is recorded as rejected, with why.
  await signalAction(env.client, group.group_key, { action: 'writeOff', by: 'carol', reason: '  ' });
  await waitFor('rejected signal recorded', async () => (await audit(group.group_key)).length === 5 || undefined);
  assert.deepEqual(await statuses(group.group_key), { QUARANTINED: group.n });
  assert.equal(
    await chargesFor(
      (
        await sys.db.pool.query<{ id: number }>('SELECT id FROM usage_line WHERE group_key = $1', [group.group_key])
      ).rows.map((r) => r.id),
    ),
    0,
  );

  const done = await resolveGroup(sys.deps, group.group_key, {
    action: 'writeOff',
    by: 'carol',
    reason: 'NZD line on an AUD account: billed by the NZ entity',
    note: 'ticket 42',
  });
  assert.equal(done.outcome, 'APPLIED');
  assert.equal(done.writtenOff, group.n);
  assert.equal(done.billed, 0);
  await handle.result();
  assert.deepEqual(await statuses(group.group_key), { WRITTEN_OFF: group.n });
  const trail = await audit(group.group_key);
  assert.deepEqual(
    trail.map((a) => a.outcome),
    ['REJECTED', 'REJECTED', 'REJECTED', 'REJECTED', 'REJECTED', 'APPLIED'],
  );
  await recordHistory(handle, 'quarantine-group-writeoff');
});

test('INVALID_RECORD and DUPLICATE_USAGE cannot be allocated; they can be written off; cleanse leaves them', async () => {
  for (const reason of ['INVALID_RECORD', 'DUPLICATE_USAGE']) {
    const [group] = await groups(reason);
    assert.ok(group, reason);
    const serviceId = (
      await sys.db.pool.query<{ id: string }>('SELECT id FROM service WHERE provider_id = $1 LIMIT 1', [providerId])
    ).rows[0]!.id;
    const refused = await resolveGroup(sys.deps, group.group_key, { action: 'allocate', serviceId, by: 'dan' });
    assert.equal(refused.outcome, 'REJECTED');
    const cleansed = await resolveGroup(sys.deps, group.group_key, { action: 'cleanse', by: 'dan' });
    assert.equal(cleansed.requarantined, group.n);
    assert.deepEqual(await statuses(group.group_key), { QUARANTINED: group.n });
    const written = await resolveGroup(sys.deps, group.group_key, {
      action: 'writeOff',
      by: 'dan',
      reason: 'carrier error',
    });
    assert.equal(written.writtenOff, group.n);
  }
});

test('cleanse signal from the CLI path (temporal workflow signal) is handled like the Update', async () => {
  // A tenant of its own (the allocation test resolved the others): usage for it, then a cycle.
  const p = sys.sim.dataset.providers[0]!;
  const tenantId = randomUUID();
  sys.sim.dataset.addChangeLine(p, { ...p.tenants[0]!, tenantId }, p.tenants[0]!.subscriptions[0]!, 1, new Date());
  await runUsageCycleNow(sys.deps, { providerId }, 'q-cycle-signal');
  const group = (await groups('NON_EXISTENT_SERVICE')).find((g) => g.group_key.endsWith(`|${tenantId}`));
  assert.ok(group, 'the new tenant has its unknown-tenant group');
  await signalAction(env.client, group.group_key, { action: 'cleanse', by: 'erin' });
  await waitFor(
    'cleanse recorded',
    async () => (await audit(group.group_key)).some((a) => a.actor === 'erin') || undefined,
  );
  // The audit row is written when the lines are marked CLEANSED; their re-mediation follows it.
  await waitFor('cleansed lines mediated again', async () => !('CLEANSED' in (await statuses(group.group_key))));
  assert.deepEqual(await statuses(group.group_key), { QUARANTINED: group.n });
});

test("an admin's action reaches a group whose workflow is not running: it is started (update-with-start) with the group's search attributes", async () => {
  const all = await sys.db.pool.query<{ group_key: string }>(
    `SELECT DISTINCT group_key FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED' ORDER BY 1 LIMIT 1`,
    [providerId],
  );
  const groupKey = all.rows[0]?.group_key;
  assert.ok(groupKey, 'a quarantined group is left to act on');
  const handle = env.client.workflow.getHandle(groupWorkflowId(groupKey));
  await handle.terminate('test: the group workflow is gone');
  const outcome = await resolveGroup(sys.deps, groupKey, {
    action: 'cleanse',
    by: 'frank',
    requestId: `restart-${groupKey}`,
  });
  assert.equal(outcome.outcome, 'APPLIED');
  const described = await handle.describe();
  assert.equal(described.status.name, 'RUNNING');
  assert.deepEqual(described.typedSearchAttributes.get(CSP_CARRIER), 'Rhipe - Microsoft');
});
