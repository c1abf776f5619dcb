import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { timeSkippingTemporal } from './support/temporal';
import { workflowBundle } from '../workers/worker';
import { tenantWorkflow } from '../workflows/tenant';
import {
  requestReconcile,
  tenantState,
  tenantWorkflowId,
  type TenantActivities,
  type TenantInput,
  type TenantState,
} from '../workflows/tenant.api';

// A reconcile that failed for good is tried again within the hour (not at the daily interval),
// also in a run continued as new with the failure in its state. Time-skipping server.

let env: TestWorkflowEnvironment;
const taskQueue = `tenant-retry-${randomUUID()}`;
let refuse = false;
let reconciles = 0;
const activities: TenantActivities = {
  reconcileTenant: async () => {
    reconciles++;
    if (refuse)
      throw ApplicationFailure.nonRetryable(
        'the carrier refused the client credentials (invalid_client)',
        'INVALID_CLIENT',
      );
    return { gone: false, licences: [], products: [], events: 0 };
  },
  applyLicenceChange: async () => assert.fail('no change in these tests'),
  markLicenceChangeFailed: async () => undefined,
};

before(async () => {
  env = await timeSkippingTemporal();
});
after(async () => {
  await env?.teardown();
});

async function withWorker(fn: () => Promise<void>): Promise<void> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  await worker.runUntil(fn());
}

/**
 * Started here rather than by tenant.api.ts: the time-skipping server has none of our search
 * attributes. Its id is the one tenant.api.ts uses, so every message goes through it.
 */
async function startTenant(extra: Partial<TenantInput> = {}) {
  const input = { providerId: 'p-test', tenantId: `tenant-${randomUUID()}`, serviceId: 'S-1', reconcileEveryHours: 24 };
  const handle = await env.client.workflow.start(tenantWorkflow, {
    taskQueue,
    workflowId: tenantWorkflowId(input.providerId, input.tenantId),
    args: [{ ...input, ...extra }],
  });
  return { handle, tenant: { providerId: input.providerId, tenantId: input.tenantId } };
}

test('a reconcile refused for good is tried again within the hour, and its failure cleared when that succeeds', () =>
  withWorker(async () => {
    reconciles = 0;
    refuse = false;
    const { handle, tenant } = await startTenant();
    while (!(await tenantState(env.client, tenant)).lastReconciledAt) await env.sleep('1 second');
    refuse = true;
    await requestReconcile(env.client, tenant);
    while (!(await tenantState(env.client, tenant)).lastReconcileFailure) await env.sleep('1 second');
    assert.equal(reconciles, 2);
    refuse = false;
    await env.sleep('61 minutes');
    const state = await tenantState(env.client, tenant);
    assert.equal(reconciles, 3, 'tried again within the hour, not after a day');
    assert.equal(state.lastReconcileFailure, null);
    await handle.terminate('test done');
  }));

test('a run continued as new with a failed reconcile in its state tries again within the hour', () =>
  withWorker(async () => {
    reconciles = 0;
    refuse = false;
    const state: TenantState = {
      licences: [],
      products: [],
      cancelledOn: null,
      goneAtCarrier: false,
      lastReconciledAt: '2026-11-26T00:00:00.000Z',
      outOfBandEvents: 0,
      recentChanges: [],
      lastReconcileFailure: { at: '2026-11-27T00:00:00.000Z', reason: 'invalid_client' },
    };
    const { handle, tenant } = await startTenant({ state });
    await env.sleep('61 minutes');
    assert.equal(reconciles, 1, 'tried again within the hour');
    assert.equal((await tenantState(env.client, tenant)).lastReconcileFailure, null);
    await handle.terminate('test done');
  }));
