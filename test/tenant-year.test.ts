import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { timeSkippingTemporal } from './support/temporal';
import { startTestSystem, type TestSystem } from './support/system';
import { tenantWorkflow } from '../workflows/tenant';
import { tenantState, tenantWorkflowId } from '../workflows/tenant.api';
import { listServices } from '../db/services';
import { addProvider } from '../client/providers';
import { onboardingActivities } from '../activities/onboarding';

let env: TestWorkflowEnvironment;
let sys: TestSystem;

before(async () => {
  env = await timeSkippingTemporal();
  sys = await startTestSystem(env, { usageRecords: 10 });
});
after(async () => {
  await sys?.stop();
  await env?.teardown();
});

test('a tenant workflow over a year of simulated days: reconciles daily, history stays bounded, state survives continue-as-new', async () => {
  const p = sys.sim.dataset.providers[0]!;
  // Onboarding here would start tenant workflows with search attributes the time-skipping server
  // does not know; the provider and its services are set up the same way, without it.
  const ctx = {
    ...sys.ctx,
    temporal: { workflow: { start: async () => ({ workflowId: 'onboarding', result: async () => ({}) }) } } as never,
  };
  const { provider } = await addProvider(ctx, {
    name: p.name,
    clientId: p.clientId,
    clientSecret: p.clientSecret,
    currency: 'AUD',
    timeZone: 'Australia/Sydney',
    cycleTimes: ['06:00'],
  });
  // The onboarding workflow's discovery steps, run here directly (no tenant workflow is started).
  const discovery = onboardingActivities({ ...sys.deps, temporal: ctx.temporal });
  const { discoveryId } = await discovery.beginDiscovery({ providerId: provider.id });
  await discovery.listDiscoveryCustomers({ providerId: provider.id, discoveryId });
  while (!(await discovery.discoverAgreements({ providerId: provider.id, discoveryId, maxAgreements: 50 })).done);
  await discovery.finishDiscovery({ providerId: provider.id, discoveryId });
  const service = (await listServices(sys.db.pool, provider.id))[0]!;

  // Started here rather than by tenant.api.ts: the time-skipping server has none of our search
  // attributes. Its id is the one tenant.api.ts uses, so the query goes through it.
  const handle = await env.client.workflow.start(tenantWorkflow, {
    taskQueue: sys.taskQueue,
    workflowId: tenantWorkflowId(provider.id, service.tenant_id),
    args: [{ providerId: provider.id, tenantId: service.tenant_id, serviceId: service.id, reconcileEveryHours: 24 }],
  });
  // A quantity change made at the carrier mid-year must still be found by the daily reconcile.
  const sub = p.tenants.find((t) => t.tenantId === service.tenant_id)!.subscriptions[0]!;
  await env.sleep('180 days');
  sub.quantity += 3;
  await env.sleep('185 days');

  const state = await tenantState(env.client, { providerId: provider.id, tenantId: service.tenant_id });
  assert.ok(state.lastReconciledAt, 'reconciled');
  const days =
    (Date.parse(state.lastReconciledAt) - Date.parse(new Date(await env.currentTimeMs()).toISOString())) / 86_400_000;
  assert.ok(days > -2, `last reconcile was ${-days} days ago`);
  assert.equal(state.outOfBandEvents, 1);
  assert.equal(state.licences.find((l) => l.subscriptionId === sub.subscriptionId)!.quantity, sub.quantity);
  const desc = await handle.describe();
  const history = await env.client.workflow.getHandle(handle.workflowId, desc.runId).fetchHistory();
  assert.ok(history.events!.length <= 1100, `current run's history: ${history.events!.length} events`);
  assert.notEqual(desc.runId, handle.firstExecutionRunId, 'continued as new at least once');
  const reconciles = await sys.db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM licence_event WHERE tenant_id = $1 AND source = 'OFFICE365_OR_CARRIER_PORTAL'`,
    [service.tenant_id],
  );
  assert.equal(reconciles.rows[0]!.n, 1);
  await handle.terminate('test done');
});
