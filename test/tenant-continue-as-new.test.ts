import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { workflowsWithActivities, type WorkerUnderTest } from './support/temporal';
import { waitFor } from './support/wait';
import { E3_LIMITS, licence } from './support/tenant';
import { recordHistory } from './support/histories';
import {
  ensureTenantWorkflow,
  requestReconcile,
  setQuantity,
  tenantState,
  tenantWorkflowId,
  type TenantActivities,
} from '../workflows/tenant.api';
import { whenAccepted } from './support/admin-wait';
import type { ChangeResult } from '../workflows/tenant.api';

// A tenant workflow told to continue as new while an admin's change is under way, against a dev
// server that suggests continuing as new after 14 events (its second reconcile), with activities the test holds.

let env: TestWorkflowEnvironment;
let stack: WorkerUnderTest | undefined;
const taskQueue = `tenant-can-${randomUUID()}`;

/** Held calls: each waits until the test answers it. */
const reconciles: Array<() => void> = [];
const changes: Array<() => void> = [];
const activities: TenantActivities = {
  reconcileTenant: async (input) => {
    if (!input.initial) await new Promise<void>((resolve) => reconciles.push(resolve));
    return { gone: false, licences: [licence(5)], products: [E3_LIMITS], events: 0 };
  },
  applyLicenceChange: async (input) => {
    await new Promise<void>((resolve) => changes.push(resolve));
    const quantity = input.change.kind === 'setQuantity' ? input.change.quantity : 0;
    return {
      changeId: input.changeId,
      kind: input.change.kind,
      licences: [licence(quantity)],
      cancelledOn: null,
    } satisfies ChangeResult;
  },
  markLicenceChangeFailed: async () => undefined,
};

before(async () => {
  stack = await workflowsWithActivities(activities, taskQueue, { 'limit.historyCount.suggestContinueAsNew': 14 });
  env = stack.env;
});
after(async () => {
  for (const answer of [...reconciles.splice(0), ...changes.splice(0)]) answer();
  await stack?.stop();
});

test("an admin's change under way when the tenant is due to continue as new finishes first: its Update is answered, the new run holds it; changes sent meanwhile are refused; a reconcile asked for meanwhile runs in the new run", async () => {
  const tenant = { providerId: 'p-test', tenantId: `tenant-can-${randomUUID()}` };
  await ensureTenantWorkflow(
    { temporal: env.client, taskQueue },
    { ...tenant, serviceId: 'S-1', reconcileEveryHours: 24 * 365 },
  );
  // For its runs and history; messages go through tenant.api.ts.
  const handle = env.client.workflow.getHandle(tenantWorkflowId(tenant.providerId, tenant.tenantId));
  const firstRunId = (await handle.describe()).runId;
  await waitFor('the first reconcile', async () =>
    (await tenantState(env.client, tenant)).lastReconciledAt ? true : undefined,
  );
  // A reconcile on demand, held; a change accepted meanwhile waits behind it.
  await requestReconcile(env.client, tenant);
  await waitFor('the reconcile under way', async () => reconciles.length === 1 || undefined);
  const update = await whenAccepted((wait) =>
    setQuantity(env.client, tenant, { subscriptionId: 'sub-1', quantity: 7, by: 'grace' }, wait),
  );
  // The reconcile ends and the change starts; the server now suggests continuing as new, and the
  // run waits for the change.
  reconciles.shift()!();
  await waitFor('the change under way', async () => changes.length === 1 || undefined);
  // A change sent now is refused by the validator (a refused Update is answered at once; an
  // accepted one would wait for its own change, which the test holds).
  const refusal = await Promise.race([
    setQuantity(
      env.client,
      tenant,
      { subscriptionId: 'sub-1', quantity: 8, by: 'heidi' },
      { deadlineMs: 600_000 },
    ).then(
      () => 'answered as applied',
      (err: unknown) => err,
    ),
    new Promise((r) => setTimeout(() => r('accepted: it waits for its change'), 10_000)),
  ]);
  assert.ok(
    refusal instanceof WorkflowUpdateFailedError,
    `the change sent while the run waited to continue as new was ${String(refusal)}`,
  );
  assert.match(String(refusal.cause?.message), /continuing as new/);
  await requestReconcile(env.client, tenant);
  changes.shift()!();
  const result = await update.result;
  assert.equal(result.licences[0]!.quantity, 7);
  await waitFor('continued as new', async () => ((await handle.describe()).runId !== firstRunId ? true : undefined));
  await recordHistory(
    env.client.workflow.getHandle(handle.workflowId, firstRunId),
    'tenant-change-across-continue-as-new',
  );
  // The new run: it holds the change, and runs the reconcile asked for while the old one waited.
  await waitFor('the reconcile asked for meanwhile', async () => reconciles.length === 1 || undefined);
  reconciles.shift()!();
  const state = await waitFor("the new run's state", async () => {
    const s = await tenantState(env.client, tenant);
    return s.recentChanges.length === 1 ? s : undefined;
  });
  assert.equal(state.recentChanges[0]!.by, 'grace', 'only the change accepted before the wait');
  await handle.terminate('test done');
});
