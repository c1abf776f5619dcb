import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { localTemporal } from './support/temporal';
import { startTestSystem, type TestSystem } from './support/system';
import { expectedOutcomes, recomputedTotals } from './support/expected';
import { runUsageCycleNow } from '../workflows/usage-cycle.api';
import { cycleProgress } from '../workflows/usage-cycle.api';
import { listServices } from '../db/services';
import { clearTokenCache } from '../carrier/client';
import type { CycleSummary } from '../workflows/usage-cycle.api';
import { recordHistory } from './support/histories';

let env: TestWorkflowEnvironment;
let sys: TestSystem;

before(async () => {
  env = await localTemporal();
  sys = await startTestSystem(env, { usageRecords: 600, pageSize: 50, providers: 3 });
});
after(async () => {
  await sys?.stop();
  await env?.teardown();
});

let cycleSeq = 0;
function runCycle(providerId: string): Promise<CycleSummary> {
  return runUsageCycleNow(
    { temporal: env.client, taskQueue: sys.taskQueue },
    { providerId },
    `cycle-${providerId}-${++cycleSeq}`,
  );
}

async function chargeCheck(providerId: string) {
  const r = await sys.db.pool.query<{ n: number; keys: number; charge: string; cost: string }>(
    `SELECT count(*)::int AS n, count(DISTINCT record_key)::int AS keys, coalesce(sum(charge), 0)::text AS charge, coalesce(sum(carrier_cost), 0)::text AS cost
       FROM usage_charge WHERE provider_id = $1`,
    [providerId],
  );
  return r.rows[0]!;
}

async function servicesOf(providerId: string) {
  return (await listServices(sys.db.pool, providerId)).map((s) => ({
    serviceId: s.id,
    tenantId: s.tenant_id,
    cancelledOn: s.cancelled_on,
  }));
}

test('a cycle bills every billable line once, quarantines the rest with the reason its data causes, money exact', async () => {
  const provider = await sys.onboardSimProvider(0);
  const summary = await runCycle(provider.id);
  const expected = expectedOutcomes(sys.sim.dataset, 0);
  assert.equal(summary.fetched, expected.total);
  assert.equal(summary.billed, expected.billed);
  assert.deepEqual(summary.quarantinedByReason, expected.quarantined);
  assert.equal(summary.duplicatesSkipped, expected.repeats);
  for (const reason of [
    'INVALID_RECORD',
    'DUPLICATE_USAGE',
    'CURRENCY_MISMATCH',
    'NON_EXISTENT_SERVICE',
    'NO_RATE_CARD',
  ]) {
    assert.ok((summary.quarantinedByReason[reason] ?? 0) > 0, `${reason} produced`);
  }
  const totals = recomputedTotals(sys.sim.dataset, 0, await servicesOf(provider.id));
  const db = await chargeCheck(provider.id);
  assert.equal(db.n, totals.billed);
  assert.equal(db.keys, db.n, 'no RecordId billed twice');
  assert.equal(db.charge, totals.charge);
  assert.equal(db.cost, totals.cost);
  assert.equal(summary.charge, totals.charge);
  // Quarantined lines are kept whole and unmodified: the raw text parses back to the carrier's line.
  const q = await sys.db.pool.query<{ raw: string }>(
    `SELECT raw FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED' LIMIT 1`,
    [provider.id],
  );
  assert.match(q.rows[0]!.raw, /"RecordId"/);

  // The same window again: everything is a repeat, nothing billed twice.
  const second = await runCycle(provider.id);
  assert.equal(second.billed, 0);
  assert.equal(second.quarantined, 0);
  assert.equal(second.duplicatesSkipped, expected.total);
  assert.equal((await chargeCheck(provider.id)).n, totals.billed);

  // Lines that come back revised in a later poll are quarantined as DUPLICATE_USAGE, never billed again.
  sys.sim.dataset.epoch = 1;
  try {
    const third = await runCycle(provider.id);
    assert.equal(third.billed, 0);
    assert.ok((third.quarantinedByReason.DUPLICATE_USAGE ?? 0) > 0);
    assert.equal(third.quarantined, third.quarantinedByReason.DUPLICATE_USAGE);
    assert.equal((await chargeCheck(provider.id)).n, totals.billed);
  } finally {
    sys.sim.dataset.epoch = 0;
  }

  // History stays small: counts and references only.
  const history = await env.client.workflow.getHandle(`cycle-${provider.id}-1`).fetchHistory();
  assert.ok(history.events!.length < 80, `history has ${history.events!.length} events`);
  const progress = await cycleProgress(env.client, `cycle-${provider.id}-1`);
  assert.equal(progress.phase, 'completed');
  await recordHistory(env.client.workflow.getHandle(`cycle-${provider.id}-1`), 'usage-cycle-first');
});

test('overlapping cycles, carrier faults on every kind, and a worker restart still bill each line exactly once', async () => {
  const provider = await sys.onboardSimProvider(1);
  sys.sim.faults.set([
    { endpoint: 'usage', kind: 'http500', afterCalls: 2, times: 1 },
    { endpoint: 'usage', kind: 'http429', retryAfterSeconds: 1, afterCalls: 4, times: 1 },
    { endpoint: 'usage', kind: 'malformed', afterCalls: 5, times: 1 },
    { endpoint: 'usage', kind: 'truncated', afterCalls: 6, times: 1 },
    { endpoint: 'usage', kind: 'expireToken', afterCalls: 7, times: 1 },
    { endpoint: 'usage', kind: 'repeatPage', afterCalls: 8, times: 1 },
    { endpoint: 'usage', kind: 'reset', afterCalls: 9, times: 1 },
  ]);
  try {
    const cycles = Promise.all([runCycle(provider.id), runCycle(provider.id)]);
    await new Promise((r) => setTimeout(r, 300));
    await sys.restartWorker();
    const [a, b] = await cycles;
    const expected = expectedOutcomes(sys.sim.dataset, 1);
    const db = await chargeCheck(provider.id);
    assert.equal(db.n, expected.billed);
    assert.equal(db.keys, db.n);
    assert.equal(a.billed + b.billed, expected.billed);
    const q = await sys.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED'`,
      [provider.id],
    );
    assert.equal(
      q.rows[0]!.n,
      Object.values(expected.quarantined).reduce((x, y) => x + y, 0),
    );
    const totals = recomputedTotals(sys.sim.dataset, 1, await servicesOf(provider.id));
    assert.equal(db.charge, totals.charge);
    assert.ok(sys.sim.faults.firedLog.length >= 7, `faults fired: ${sys.sim.faults.firedLog.length}`);
    await recordHistory(env.client.workflow.getHandle(`cycle-${provider.id}-${cycleSeq - 1}`), 'usage-cycle-faults-a');
    await recordHistory(env.client.workflow.getHandle(`cycle-${provider.id}-${cycleSeq}`), 'usage-cycle-faults-b');
  } finally {
    sys.sim.faults.clear();
  }
});

test('a carrier page slower than the heartbeat timeout, within the carrier timeout, is waited for: the fetch is not timed out and run again beside itself', async () => {
  const provider = await sys.onboardSimProvider(2);
  // The deployed carrier timeout (30 s) is longer than the fetch's heartbeat timeout (10 s).
  const timeoutMs = sys.deps.carrier.timeoutMs;
  sys.deps.carrier.timeoutMs = 30_000;
  sys.sim.faults.set([{ endpoint: 'usage', kind: 'slow', delayMs: 13_000, afterCalls: 1, times: 1 }]);
  const firedBefore = sys.sim.faults.firedLog.length;
  try {
    const summary = await runCycle(provider.id);
    assert.deepEqual(
      sys.sim.faults.firedLog.slice(firedBefore).map((f) => f.kind),
      ['slow'],
      'the slow page was served',
    );
    assert.equal(summary.billed, expectedOutcomes(sys.sim.dataset, 2).billed);
    const history = await env.client.workflow.getHandle(`cycle-${provider.id}-${cycleSeq}`).fetchHistory();
    const timedOut = (history.events ?? []).filter((e) => e.activityTaskTimedOutEventAttributes);
    const retried = (history.events ?? []).filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
    assert.deepEqual([timedOut.length, retried.length], [0, 0], 'no fetch attempt timed out or ran again');
  } finally {
    sys.deps.carrier.timeoutMs = timeoutMs;
    sys.sim.faults.clear();
  }
});

test('a cancelled service: its lines from the cancellation date are SERVICE_INACTIVE', async () => {
  const provider = (
    await sys.db.pool.query<{ id: string }>(`SELECT id FROM provider WHERE client_id = $1`, [
      sys.sim.dataset.providers[1]!.clientId,
    ])
  ).rows[0]!;
  const services = await servicesOf(provider.id);
  const target = services[0]!;
  await sys.db.pool.query(`UPDATE service SET cancelled_on = '2000-01-01' WHERE id = $1`, [target.serviceId]);
  // New usage for that tenant arrives (an order), after the cancellation.
  const tenant = sys.sim.dataset.findTenant(target.tenantId)!;
  sys.sim.dataset.addChangeLine(tenant.provider, tenant.tenant, tenant.tenant.subscriptions[0]!, 2, new Date());
  const summary = await runCycle(provider.id);
  assert.deepEqual(summary.quarantinedByReason, { SERVICE_INACTIVE: 1 });
  await sys.db.pool.query(`UPDATE service SET cancelled_on = NULL WHERE id = $1`, [target.serviceId]);
});

test('revoked credentials fail the cycle at once with a clear reason and flag the provider', async () => {
  const provider = (
    await sys.db.pool.query<{ id: string; secret_ciphertext: string }>(
      `SELECT id, secret_ciphertext FROM provider WHERE client_id = $1`,
      [sys.sim.dataset.providers[0]!.clientId],
    )
  ).rows[0]!;
  await sys.db.pool.query('UPDATE provider SET secret_ciphertext = $2 WHERE id = $1', [
    provider.id,
    sys.deps.keyring.encrypt('f'.repeat(32)),
  ]);
  clearTokenCache();
  try {
    const started = Date.now();
    await assert.rejects(runCycle(provider.id), (e: WorkflowFailedError) =>
      /invalid_client/.test(String((e.cause as Error)?.message)),
    );
    assert.ok(Date.now() - started < 20_000, 'not retried for long');
    const p = await sys.db.pool.query<{ status: string; attention_reason: string }>(
      'SELECT status, attention_reason FROM provider WHERE id = $1',
      [provider.id],
    );
    assert.equal(p.rows[0]!.status, 'NEEDS_ATTENTION');
    assert.match(p.rows[0]!.attention_reason, /client_id\/client_secret/);
    const run = await sys.db.pool.query<{ status: string }>(`SELECT status FROM cycle_run WHERE id = $1`, [
      `cycle-${provider.id}-${cycleSeq}`,
    ]);
    assert.equal(run.rows[0]!.status, 'FAILED');
    await recordHistory(env.client.workflow.getHandle(`cycle-${provider.id}-${cycleSeq}`), 'usage-cycle-revoked');
  } finally {
    await sys.db.pool.query('UPDATE provider SET secret_ciphertext = $2 WHERE id = $1', [
      provider.id,
      provider.secret_ciphertext,
    ]);
  }
  // With the credentials fixed the next cycle runs and clears the flag.
  await runCycle(provider.id);
  const p = await sys.db.pool.query<{ status: string }>('SELECT status FROM provider WHERE id = $1', [provider.id]);
  assert.equal(p.rows[0]!.status, 'ACTIVE');
});
