import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { workflowsWithActivities, type WorkerUnderTest } from './support/temporal';
import { waitFor } from './support/wait';
import { E3_LIMITS, licence } from './support/tenant';
import { recordHistory } from './support/histories';
import {
  cancelService,
  ensureTenantWorkflow,
  orderProduct,
  requestReconcile,
  setQuantity,
  tenantState,
  tenantWorkflowId,
  type TenantActivities,
} from '../workflows/tenant.api';
import { whenAccepted } from './support/admin-wait';
import type { ChangeResult, LicenceChange } from '../workflows/tenant.api';

// Admins' changes racing each other and a reconcile the carrier refuses, on a real dev server, with
// activities the test holds: a change is checked again when its turn comes, and a failed reconcile
// leaves the tenant's workflow running.

let env: TestWorkflowEnvironment;
let stack: WorkerUnderTest | undefined;
const taskQueue = `tenant-races-${randomUUID()}`;

/** Held calls: each waits until the test answers it. */
const held: Array<() => void> = [];
const applied: LicenceChange[] = [];
let refuseReconcile = false;
const activities: TenantActivities = {
  reconcileTenant: async (input) => {
    if (!input.initial) {
      await new Promise<void>((resolve) => held.push(resolve));
      if (refuseReconcile)
        throw ApplicationFailure.nonRetryable(
          'the carrier refused the client credentials (invalid_client)',
          'INVALID_CLIENT',
        );
    }
    return { gone: false, licences: [licence(5)], products: [E3_LIMITS], events: 0 };
  },
  applyLicenceChange: async (input) => {
    await new Promise<void>((resolve) => held.push(resolve));
    applied.push(input.change);
    const cancelledOn = input.change.kind === 'cancelService' ? input.change.effectiveDate : null;
    const licences = input.change.kind === 'setQuantity' ? [licence(input.change.quantity)] : [];
    return { changeId: input.changeId, kind: input.change.kind, licences, cancelledOn } satisfies ChangeResult;
  },
  markLicenceChangeFailed: async () => undefined,
};

/** Answers held calls, one at a time, until `done` says so. */
async function answerUntil(what: string, done: () => boolean): Promise<void> {
  while (!done()) {
    await waitFor(what, async () => held.length > 0 || done() || undefined);
    held.shift()?.();
    await new Promise((r) => setTimeout(r, 100));
  }
}

const outcome = (p: Promise<ChangeResult>) =>
  p.then(
    (r) => `applied ${r.kind}`,
    (err: Error) => `refused: ${(err.cause as Error | undefined)?.message ?? err.message}`,
  );

before(async () => {
  stack = await workflowsWithActivities(activities, taskQueue);
  env = stack.env;
});
after(async () => {
  for (const answer of held.splice(0)) answer();
  await stack?.stop();
});

async function startTenant() {
  const tenant = { providerId: 'p-test', tenantId: `tenant-races-${randomUUID()}` };
  await ensureTenantWorkflow(
    { temporal: env.client, taskQueue },
    { ...tenant, serviceId: 'S-1', reconcileEveryHours: 24 * 365 },
  );
  await waitFor('the first reconcile', async () =>
    (await tenantState(env.client, tenant)).lastReconciledAt ? true : undefined,
  );
  // For its status and history; messages go through tenant.api.ts.
  const handle = env.client.workflow.getHandle(tenantWorkflowId(tenant.providerId, tenant.tenantId));
  return { tenant, handle };
}

test('two admins cancel at once and a third orders meanwhile: the first cancel stands, the later changes are refused when their turn comes, and nothing else reaches the carrier', async () => {
  applied.length = 0;
  const { tenant, handle } = await startTenant();
  // Each is accepted against the state before any of them ran: none has been cancelled yet.
  const alice = await whenAccepted((wait) =>
    cancelService(env.client, tenant, { by: 'alice', effectiveDate: '2026-10-01' }, wait),
  );
  const bob = await whenAccepted((wait) =>
    cancelService(env.client, tenant, { by: 'bob', effectiveDate: '2026-12-01' }, wait),
  );
  const carol = await whenAccepted((wait) =>
    orderProduct(env.client, tenant, { by: 'carol', productId: 'prod-1', quantity: 5 }, wait),
  );
  const results = Promise.all([outcome(alice.result), outcome(bob.result), outcome(carol.result)]);
  let settled = false;
  void results.finally(() => (settled = true));
  await answerUntil('the changes to settle', () => settled);
  const [a, b, c] = await results;
  const state = await tenantState(env.client, tenant);
  await recordHistory(handle, 'tenant-change-refused-when-run');
  assert.equal(a, 'applied cancelService');
  assert.match(
    b,
    /^refused: the service is already cancelled: billing stopped from 2026-10-01 \(after the changes accepted before this one ran\)$/,
  );
  assert.match(
    c,
    /^refused: the service was cancelled on 2026-10-01: no licence changes \(after the changes accepted before this one ran\)$/,
  );
  assert.deepEqual(
    applied.map((x) => x.kind),
    ['cancelService'],
    'only the first cancel reached the activity',
  );
  assert.equal(state.cancelledOn, '2026-10-01');
  assert.equal((await handle.describe()).status.name, 'RUNNING');
});

test('a reconcile the carrier refuses for good leaves the tenant running: the change accepted behind it is applied, the failure shows in its state until a reconcile succeeds', async () => {
  applied.length = 0;
  const { tenant, handle } = await startTenant();
  refuseReconcile = true;
  await requestReconcile(env.client, tenant);
  await waitFor('the reconcile under way', async () => held.length === 1 || undefined);
  const order = await whenAccepted((wait) =>
    orderProduct(env.client, tenant, { by: 'dave', productId: 'prod-1', quantity: 3 }, wait),
  );
  const result = outcome(order.result);
  let settled = false;
  void result.finally(() => (settled = true));
  await answerUntil('the order to settle', () => settled);
  const afterFailure = await tenantState(env.client, tenant).catch((err: Error) => err);
  const status = (await handle.describe()).status.name;
  await recordHistory(handle, 'tenant-reconcile-failure-kept');
  assert.equal(await result, 'applied order');
  assert.equal(status, 'RUNNING');
  assert.ok(!(afterFailure instanceof Error), `query: ${JSON.stringify(afterFailure)}`);
  assert.match(String(afterFailure.lastReconcileFailure?.reason), /invalid_client/);
  // The credentials are put right and an admin asks again: the failure is cleared.
  refuseReconcile = false;
  const failedAt = afterFailure.lastReconciledAt;
  await requestReconcile(env.client, tenant);
  await waitFor('the reconcile asked for', async () => held.length === 1 || undefined);
  held.shift()!();
  await waitFor('a reconcile that succeeded', async () => {
    const s = await tenantState(env.client, tenant);
    return s.lastReconciledAt !== failedAt && !s.lastReconcileFailure ? true : undefined;
  });
});

test("changes the state still allows when their turn comes go through: an order behind a cancel dated in the future, and two quantity changes, the second recording the first's quantity as its old one", async () => {
  applied.length = 0;
  const { tenant } = await startTenant();
  const updates = [
    await whenAccepted((wait) => cancelService(env.client, tenant, { by: 'alice', effectiveDate: '2099-01-31' }, wait)),
    await whenAccepted((wait) =>
      orderProduct(env.client, tenant, { by: 'bob', productId: 'prod-1', quantity: 2 }, wait),
    ),
    await whenAccepted((wait) =>
      setQuantity(env.client, tenant, { by: 'carol', subscriptionId: 'sub-1', quantity: 7 }, wait),
    ),
    await whenAccepted((wait) =>
      setQuantity(env.client, tenant, { by: 'dave', subscriptionId: 'sub-1', quantity: 9 }, wait),
    ),
  ];
  const results = Promise.all(updates.map((u) => outcome(u.result)));
  let settled = false;
  void results.finally(() => (settled = true));
  await answerUntil('the changes to settle', () => settled);
  assert.deepEqual(await results, [
    'applied cancelService',
    'applied order',
    'applied setQuantity',
    'applied setQuantity',
  ]);
  const quantities = applied
    .filter((c) => c.kind === 'setQuantity')
    .map((c) => c.kind === 'setQuantity' && [c.oldQuantity, c.quantity]);
  assert.deepEqual(quantities, [
    [5, 7],
    [7, 9],
  ]);
});
