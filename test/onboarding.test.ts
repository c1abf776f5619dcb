import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { localTemporal } from './support/temporal';
import { waitFor } from './support/wait';
import { startTestSystem, type TestSystem } from './support/system';
import { addProvider } from '../client/providers';
import { runOnboarding } from '../client/providers';
import { UserError } from '../client/errors';
import {
  cancelService,
  orderProduct,
  reactivateService,
  requestReconcile,
  setQuantity,
  tenantState,
} from '../workflows/tenant.api';
import { tenantWorkflowId } from '../workflows/tenant.api';
import { usageScheduleId } from '../workflows/usage-cycle.api';
import { listServices } from '../db/services';
import { recordHistory } from './support/histories';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { failedLicenceChanges } from '../db/licence-changes';
import { recentLicenceEvents } from '../db/licence-events';
import { cliActor, osUserName } from '../client/actor';
import { createActivities } from '../activities';
import { postgresDataErrorCode } from '../activities/failures';

let env: TestWorkflowEnvironment;
let sys: TestSystem;

before(async () => {
  env = await localTemporal();
  sys = await startTestSystem(env, { usageRecords: 50 });
});
after(async () => {
  await sys?.stop();
  await env?.teardown();
});

const base = { name: 'Harbour IT', currency: 'AUD', timeZone: 'Australia/Sydney', cycleTimes: ['06:00', '18:00'] };

test('swapped and malformed credentials are refused with the right message before any request', async () => {
  const p = sys.sim.dataset.providers[0]!;
  const calls = sys.sim.stats.calls.token ?? 0;
  await assert.rejects(
    addProvider(sys.ctx, { ...base, clientId: p.clientSecret, clientSecret: p.clientId }),
    (e: UserError) => /client_id and client_secret look swapped/.test(e.message) && !e.message.includes(p.clientSecret),
  );
  await assert.rejects(
    addProvider(sys.ctx, { ...base, clientId: 'harbour-it', clientSecret: p.clientSecret }),
    /client_id must be a GUID/,
  );
  await assert.rejects(
    addProvider(sys.ctx, { ...base, clientId: p.clientId, clientSecret: 'hunter2' }),
    (e: UserError) => /client_secret must be 32 hexadecimal/.test(e.message) && !e.message.includes('hunter2'),
  );
  assert.equal(sys.sim.stats.calls.token ?? 0, calls, 'no request was made');
  assert.equal((await sys.db.pool.query('SELECT 1 FROM provider')).rowCount, 0);
});

test('wrong credentials are refused after the token call, nothing stored', async () => {
  const p = sys.sim.dataset.providers[0]!;
  const calls = sys.sim.stats.calls.token ?? 0;
  await assert.rejects(
    addProvider(sys.ctx, { ...base, clientId: p.clientId, clientSecret: 'a'.repeat(32) }),
    /wrong credentials.*invalid_client.*nothing was stored/,
  );
  assert.equal(sys.sim.stats.calls.token, calls + 1);
  assert.equal((await sys.db.pool.query('SELECT 1 FROM provider')).rowCount, 0);
});

test('onboarding: one service per tenant, type 5315, a tenant workflow each, the usage schedule; later discovery adds and flags', async () => {
  const p = sys.sim.dataset.providers[0]!;
  const { provider, onboarding } = await addProvider(sys.ctx, {
    ...base,
    clientId: p.clientId,
    clientSecret: p.clientSecret,
  });
  assert.equal(onboarding.tenants, p.tenants.length);
  assert.equal(onboarding.servicesCreated, p.tenants.length);
  const services = await listServices(sys.db.pool, provider.id);
  assert.equal(services.length, p.tenants.length);
  for (const s of services) {
    const t = p.tenants.find((x) => x.tenantId === s.tenant_id)!;
    assert.equal(s.service_type_id, 5315);
    assert.equal(s.service_type_name, 'Microsoft CSP - Rhipe');
    assert.equal(s.tenant_domain, t.domain);
    assert.equal(s.customer_name, t.customerName);
    assert.equal(s.contract_agreement_id, t.contractAgreementId);
  }
  const schedule = await env.client.schedule.getHandle(usageScheduleId(provider.id)).describe();
  assert.equal(schedule.spec.timezone, 'Australia/Sydney');
  assert.equal(schedule.policies.overlap, 'BUFFER_ONE');
  const state = await waitFor('tenant licences', async () => {
    const s = await tenantState(env.client, { providerId: provider.id, tenantId: p.tenants[0]!.tenantId });
    return s.lastReconciledAt ? s : undefined;
  });
  assert.ok(state.licences.length >= 2);

  // Discovery again: a new tenant at the carrier becomes a service; one gone is flagged, not deleted.
  const added = sys.sim.dataset.addTenant(p, 'Blue Yonder Airlines');
  const goneTenant = p.tenants[1]!.tenantId;
  await fetch(`${sys.sim.url}/sim/tenants/${goneTenant}`, { method: 'DELETE' });
  const again = await runOnboarding(sys.ctx, provider.id);
  assert.equal(again.servicesCreated, 1);
  const after = await listServices(sys.db.pool, provider.id);
  assert.equal(after.length, services.length + 1);
  assert.ok(after.some((s) => s.tenant_id === added.tenantId));
  assert.ok(after.find((s) => s.tenant_id === goneTenant)!.gone_at_carrier_since);
});

test('tenant updates are validated before anything is sent; accepted ones change the carrier once and are recorded', async () => {
  const p = sys.sim.dataset.providers[0]!;
  const providerId = (await sys.db.pool.query<{ id: string }>('SELECT id FROM provider')).rows[0]!.id;
  const tenant = p.tenants[0]!;
  const ref = { providerId, tenantId: tenant.tenantId };
  const state = await tenantState(env.client, ref);
  const sub = state.licences.find((l) => l.parentSubscriptionId === null)!;
  const product = sys.sim.dataset.products[0]!;
  const ordersBefore = sys.sim.stats.calls.orders ?? 0;
  const reason = async (p2: Promise<unknown>) => {
    try {
      await p2;
      return 'accepted';
    } catch (e) {
      assert.ok(e instanceof WorkflowUpdateFailedError);
      return String((e.cause as Error).message);
    }
  };
  assert.match(
    await reason(
      orderProduct(env.client, ref, { productId: '99999999-9999-4999-8999-999999999999', quantity: 1, by: 'alice' }),
    ),
    /unknown product/,
  );
  assert.match(
    await reason(orderProduct(env.client, ref, { productId: product.productId, quantity: 0, by: 'alice' })),
    /between 1 and 300/,
  );
  assert.match(
    await reason(orderProduct(env.client, ref, { productId: product.productId, quantity: 301, by: 'alice' })),
    /between 1 and 300/,
  );
  assert.match(
    await reason(orderProduct(env.client, ref, { productId: product.productId, quantity: 2, by: '' })),
    /by .* is required/,
  );
  assert.match(
    await reason(
      setQuantity(env.client, ref, {
        subscriptionId: '99999999-9999-4999-8999-999999999999',
        quantity: 3,
        by: 'alice',
      }),
    ),
    /not a licence of this tenant/,
  );
  assert.match(
    await reason(
      setQuantity(env.client, ref, { subscriptionId: sub.subscriptionId, quantity: sub.quantity, by: 'alice' }),
    ),
    /already has quantity/,
  );
  assert.equal(sys.sim.stats.calls.orders ?? 0, ordersBefore, 'nothing was sent');

  const ordered = await orderProduct(env.client, ref, { productId: product.productId, quantity: 4, by: 'alice' });
  assert.equal(ordered.licences[0]!.quantity, 4);
  assert.equal(sys.sim.stats.calls.orders, ordersBefore + 1);
  const changed = await setQuantity(env.client, ref, {
    subscriptionId: sub.subscriptionId,
    quantity: sub.quantity + 2,
    by: 'alice',
  });
  assert.equal(changed.licences[0]!.quantity, sub.quantity + 2);
  assert.equal(
    tenant.subscriptions.find((s) => s.subscriptionId === sub.subscriptionId)!.quantity,
    sub.quantity + 2,
    'carrier state changed',
  );
  const events = await sys.db.pool.query<{ source: string; kind: string; old_value: string | null; new_value: string }>(
    `SELECT source, kind, old_value, new_value FROM licence_event WHERE tenant_id = $1 ORDER BY id`,
    [tenant.tenantId],
  );
  assert.deepEqual(
    events.rows.map((e) => [e.source, e.kind]),
    [
      ['THIS_SYSTEM', 'ordered'],
      ['THIS_SYSTEM', 'quantity'],
    ],
  );
  // A change made here keeps the old value as well as the new one, and who asked (name and OS user).
  assert.deepEqual(
    [events.rows[1]!.old_value, events.rows[1]!.new_value],
    [String(sub.quantity), String(sub.quantity + 2)],
  );
  const shown = await recentLicenceEvents(sys.db.pool, providerId, tenant.tenantId);
  assert.equal(shown[0]!.kind, 'quantity');
  assert.equal(shown[0]!.by, 'alice');
  const withOsUser = await setQuantity(env.client, ref, {
    subscriptionId: sub.subscriptionId,
    quantity: sub.quantity + 1,
    ...cliActor('mallory'),
  });
  assert.equal(withOsUser.licences[0]!.quantity, sub.quantity + 1);
  const latest = (await recentLicenceEvents(sys.db.pool, providerId, tenant.tenantId))[0]!;
  assert.deepEqual(
    [latest.old_value, latest.new_value, latest.by, latest.os_user],
    [String(sub.quantity + 2), String(sub.quantity + 1), 'mallory', osUserName()],
  );

  // Impossible calendar dates are refused before anything is recorded or sent.
  const changesBefore = (await sys.db.pool.query('SELECT 1 FROM licence_change')).rowCount;
  assert.match(
    await reason(cancelService(env.client, ref, { by: 'alice', effectiveDate: '2026-02-30' })),
    /February 2026 has 28 days/,
  );
  assert.match(
    await reason(cancelService(env.client, ref, { by: 'alice', effectiveDate: '2026-13-01' })),
    /month 13 does not exist/,
  );
  assert.equal((await sys.db.pool.query('SELECT 1 FROM licence_change')).rowCount, changesBefore);

  // Cancelling stops billing from the date and leaves the licence at the carrier. Until that date the
  // service is active: licence changes still go through.
  const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86400_000).toISOString().slice(0, 10);
  const subsBefore = tenant.subscriptions.length;
  const future = day(30);
  const cancelled = await cancelService(env.client, ref, { by: 'alice', effectiveDate: future });
  assert.equal(cancelled.cancelledOn, future);
  assert.equal(tenant.subscriptions.length, subsBefore);
  assert.ok(tenant.subscriptions.every((s) => s.status === 'Active'));
  const svc = await sys.db.pool.query<{ c: string }>(
    `SELECT to_char(cancelled_on, 'YYYY-MM-DD') AS c FROM service WHERE tenant_id = $1`,
    [tenant.tenantId],
  );
  assert.equal(svc.rows[0]!.c, future);
  const beforeDate = await setQuantity(env.client, ref, {
    subscriptionId: sub.subscriptionId,
    quantity: 9,
    by: 'alice',
  });
  assert.equal(beforeDate.licences[0]!.quantity, 9);
  assert.match(
    await reason(cancelService(env.client, ref, { by: 'alice' })),
    new RegExp(`already being cancelled: billing stops from ${future}`),
  );
  await reactivateService(env.client, ref, { by: 'alice' });
  assert.equal((await tenantState(env.client, ref)).cancelledOn, null);

  // Dated today or earlier: no licence changes, and a second cancel says it is already cancelled.
  const past = day(-1);
  await cancelService(env.client, ref, { by: 'alice', effectiveDate: past });
  assert.match(
    await reason(setQuantity(env.client, ref, { subscriptionId: sub.subscriptionId, quantity: 8, by: 'alice' })),
    new RegExp(`was cancelled on ${past}`),
  );
  assert.match(
    await reason(cancelService(env.client, ref, { by: 'alice' })),
    new RegExp(`already cancelled: billing stopped from ${past}`),
  );
  await reactivateService(env.client, ref, { by: 'alice' });
  assert.equal((await tenantState(env.client, ref)).cancelledOn, null);
});

test("a change that cannot succeed is marked FAILED with its reason, and the tenant's next change goes through at once", async () => {
  const p = sys.sim.dataset.providers[0]!;
  const providerId = (await sys.db.pool.query<{ id: string }>('SELECT id FROM provider')).rows[0]!.id;
  const tenant = p.tenants[3]!;
  const ref = { providerId, tenantId: tenant.tenantId };
  const state = await waitFor('tenant licences', async () => {
    const s = await tenantState(env.client, ref);
    return s.lastReconciledAt ? s : undefined;
  });
  const sub = state.licences.find((l) => l.parentSubscriptionId === null)!;
  sys.sim.faults.add({ endpoint: 'quantity', kind: 'http400' });
  const started = Date.now();
  await assert.rejects(
    setQuantity(env.client, ref, { subscriptionId: sub.subscriptionId, quantity: sub.quantity + 1, by: 'alice' }),
  );
  const failed = await failedLicenceChanges(sys.db.pool, providerId, tenant.tenantId);
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.kind, 'setQuantity');
  assert.match(failed[0]!.failure ?? '', /400/);
  const next = await setQuantity(env.client, ref, {
    subscriptionId: sub.subscriptionId,
    quantity: sub.quantity + 3,
    by: 'alice',
  });
  assert.equal(next.licences[0]!.quantity, sub.quantity + 3);
  assert.ok(Date.now() - started < 60_000, 'no retrying for minutes');
  const sent = await sys.db.pool.query(`SELECT 1 FROM licence_change WHERE tenant_id = $1 AND status = 'SENT'`, [
    tenant.tenantId,
  ]);
  assert.equal(sent.rowCount, 0, 'nothing left waiting');
});

test('PostgreSQL data errors (an impossible date that got past every check) fail the change at once, not after 30 minutes of retries', async () => {
  const p = sys.sim.dataset.providers[0]!;
  const providerId = (await sys.db.pool.query<{ id: string }>('SELECT id FROM provider')).rows[0]!.id;
  const tenant = p.tenants[3]!;
  const service = (await listServices(sys.db.pool, providerId)).find((s) => s.tenant_id === tenant.tenantId)!;
  const acts = createActivities(sys.deps);
  const changeId = randomUUID();
  await assert.rejects(
    acts.applyLicenceChange({
      providerId,
      tenantId: tenant.tenantId,
      serviceId: service.id,
      changeId,
      by: 'alice',
      change: { kind: 'cancelService', effectiveDate: '2026-02-30' },
    }),
    (e: ApplicationFailure) =>
      e instanceof ApplicationFailure && e.nonRetryable === true && /^POSTGRES_22/.test(e.type ?? ''),
  );
  const row = await sys.db.pool.query<{ status: string; failure: string }>(
    'SELECT status, failure FROM licence_change WHERE change_id = $1',
    [changeId],
  );
  assert.equal(row.rows[0]!.status, 'FAILED');
  assert.match(row.rows[0]!.failure, /date/);
  assert.equal(postgresDataErrorCode({ code: '23505' }), '23505');
  assert.equal(postgresDataErrorCode({ code: '40001' }), null, 'a serialization failure is worth retrying');
});

test('an out-of-band change at the carrier is recorded by the next reconcile, with its source, old and new values', async () => {
  const p = sys.sim.dataset.providers[0]!;
  const providerId = (await sys.db.pool.query<{ id: string }>('SELECT id FROM provider')).rows[0]!.id;
  const tenant = p.tenants[2]!;
  const ref = { providerId, tenantId: tenant.tenantId };
  await waitFor('first reconcile', async () => (await tenantState(env.client, ref)).lastReconciledAt);
  const sub = tenant.subscriptions[0]!;
  const old = sub.quantity;
  // As an admin would in Office 365 or the carrier's portal: nothing tells us.
  const res = await fetch(`${sys.sim.url}/sim/subscriptions/${sub.subscriptionId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ quantity: old + 7, status: 'Suspended' }),
  });
  assert.equal(res.status, 200);
  await requestReconcile(env.client, ref);
  const events = await waitFor('out-of-band events', async () => {
    const r = await sys.db.pool.query<{
      source: string;
      kind: string;
      old_value: string;
      new_value: string;
      subscription_id: string;
    }>(
      `SELECT source, kind, old_value, new_value, subscription_id FROM licence_event WHERE tenant_id = $1 AND source = 'OFFICE365_OR_CARRIER_PORTAL' ORDER BY kind`,
      [tenant.tenantId],
    );
    return r.rows.length >= 2 ? r.rows : undefined;
  });
  assert.deepEqual(
    events.map((e) => [e.kind, e.old_value, e.new_value, e.subscription_id]),
    [
      ['quantity', String(old), String(old + 7), sub.subscriptionId],
      ['status', 'Active', 'Suspended', sub.subscriptionId],
    ],
  );
  const state = await tenantState(env.client, ref);
  assert.equal(state.licences.find((l) => l.subscriptionId === sub.subscriptionId)!.quantity, old + 7);
  await recordHistory(env.client.workflow.getHandle(tenantWorkflowId(providerId, tenant.tenantId)), 'tenant-reconcile');
  await recordHistory(
    env.client.workflow.getHandle(tenantWorkflowId(providerId, p.tenants[0]!.tenantId)),
    'tenant-updates',
  );
  for await (const wf of env.client.workflow.list({ query: `WorkflowType = 'onboardProviderWorkflow'` })) {
    await recordHistory(env.client.workflow.getHandle(wf.workflowId, wf.runId), 'onboarding-resumable');
    break;
  }
});
