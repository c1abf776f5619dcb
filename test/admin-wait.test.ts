import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { workflowsWithActivities, type WorkerUnderTest } from './support/temporal';
import { waitFor } from './support/wait';
import { E3_LIMITS, licence } from './support/tenant';
import { recordHistory } from './support/histories';
import {
  ActionNotAccepted,
  ActionStillRunning,
  ensureTenantWorkflow,
  orderProduct,
  setQuantity,
  tenantState,
  type TenantActivities,
} from '../workflows/tenant.api';
import {
  groupState,
  groupWorkflowId,
  resolveGroup,
  signalAction,
  signalLinesAdded,
  type ActionOutcome,
  type ApplyActionInput,
  type QuarantineActivities,
} from '../workflows/quarantine-group.api';
import { MAX_ADMIN_TEXT_CHARS } from '../core/admin-text';

// An admin waits on a workflow for a bounded time: past the deadline the caller hears that its
// action was accepted and is still running, or that it was not accepted. And free text an admin
// sends a quarantine group is bounded: an Update with too much is refused, a signal is recorded
// as rejected and kept cut. A real dev server, with activities the test holds.

let env: TestWorkflowEnvironment;
let stack: WorkerUnderTest | undefined;
const taskQueue = `admin-wait-${randomUUID()}`;
const starter = () => ({ temporal: env.client, taskQueue });

/** Held calls: each waits until the test answers it (or the worker's shutdown cancels it). */
const held: Array<() => void> = [];
const hold = () => Promise.race([new Promise<void>((resolve) => held.push(resolve)), Context.current().cancelled]);

const recorded: ApplyActionInput[] = [];
const activities: TenantActivities & QuarantineActivities = {
  reconcileTenant: async () => ({ gone: false, licences: [licence(5)], products: [E3_LIMITS], events: 0 }),
  applyLicenceChange: async (input) => {
    await hold();
    const quantity = input.change.kind === 'setQuantity' ? input.change.quantity : 0;
    return { changeId: input.changeId, kind: input.change.kind, licences: [licence(quantity)], cancelledOn: null };
  },
  markLicenceChangeFailed: async () => undefined,
  loadGroupSummary: async ({ groupKey }) => ({
    groupKey,
    providerId: 'p-test',
    reason: 'NON_EXISTENT_SERVICE',
    tenantRef: groupKey.split('|')[2]!,
    lines: 3,
    carrierCharge: '3',
    periodFrom: null,
    periodTo: null,
  }),
  applyQuarantineAction: async (input) => {
    recorded.push(input);
    if (input.request.action === 'cleanse' && input.rejection === null) await hold();
    return {
      requestId: input.request.requestId,
      action: input.request.action,
      by: input.request.by,
      outcome: input.rejection ? 'REJECTED' : 'APPLIED',
      rejection: input.rejection,
      lines: 0,
      billed: 0,
      requarantined: 0,
      writtenOff: 0,
      amount: '0',
      at: new Date().toISOString(),
    } satisfies ActionOutcome;
  },
};

before(async () => {
  stack = await workflowsWithActivities(activities, taskQueue);
  env = stack.env;
});
after(async () => {
  for (const answer of held.splice(0)) answer();
  await stack?.stop();
});

async function startTenant() {
  const tenant = { providerId: 'p-test', tenantId: `tenant-${randomUUID()}` };
  await ensureTenantWorkflow(starter(), { ...tenant, serviceId: 'S-1', reconcileEveryHours: 24 * 365 });
  await waitFor('the first reconcile', async () =>
    (await tenantState(env.client, tenant)).lastReconciledAt ? true : undefined,
  );
  return tenant;
}

test('a tenant change whose carrier call is held past the deadline: the admin hears it was accepted and still runs; it completes afterwards', async () => {
  const tenant = await startTenant();
  const started = Date.now();
  const err = await setQuantity(
    env.client,
    tenant,
    { subscriptionId: 'sub-1', quantity: 7, by: 'alice' },
    { deadlineMs: 1500 },
  ).catch((e: unknown) => e);
  assert.ok(err instanceof ActionStillRunning, `got ${String(err)}`);
  assert.match(err.message, /^accepted: still running after 1\.5 s/);
  assert.ok(Date.now() - started < 15_000, 'answered near its deadline');
  await waitFor('the held change', async () => held.length === 1 || undefined);
  held.shift()!();
  await waitFor('the change done', async () => {
    const s = await tenantState(env.client, tenant);
    return s.recentChanges.length === 1 && s.licences[0]!.quantity === 7 ? true : undefined;
  });
});

test('a tenant change no worker takes: not accepted by the deadline, said as such, never a hang', async () => {
  const tenant = { providerId: 'p-test', tenantId: `tenant-${randomUUID()}` };
  await ensureTenantWorkflow(
    { temporal: env.client, taskQueue: `nobody-${randomUUID()}` },
    { ...tenant, serviceId: 'S-1' },
  );
  const started = Date.now();
  const err = await orderProduct(
    env.client,
    tenant,
    { productId: 'prod-1', quantity: 1, by: 'alice' },
    { deadlineMs: 1500 },
  ).catch((e: unknown) => e);
  assert.ok(err instanceof ActionNotAccepted, `got ${String(err)}`);
  assert.match(err.message, /^service unavailable: workflow tenant:p-test:.* did not accept the action within 1\.5 s/);
  assert.ok(Date.now() - started < 15_000, 'answered near its deadline');
  await env.client.workflow.getHandle(`tenant:p-test:${tenant.tenantId}`).terminate('test done');
});

test("a group's resolve held past the deadline is accepted and still running; too long a note is refused; a signal with too long a reason is recorded as rejected, and kept cut", async () => {
  const groupKey = `p-test|NON_EXISTENT_SERVICE|tenant-${randomUUID()}`;
  await signalLinesAdded(starter(), groupKey, { source: 'cycle-1', count: 3 });
  const err = await resolveGroup(starter(), groupKey, { action: 'cleanse', by: 'alice' }, { deadlineMs: 1500 }).catch(
    (e: unknown) => e,
  );
  assert.ok(err instanceof ActionStillRunning, `got ${String(err)}`);
  await waitFor('the held cleanse', async () => held.length === 1 || undefined);
  held.shift()!();

  const long = 'x'.repeat(MAX_ADMIN_TEXT_CHARS + 1);
  const refused = await resolveGroup(starter(), groupKey, { action: 'cleanse', by: 'bob', note: long }).catch(
    (e: unknown) => e,
  );
  assert.ok(refused instanceof WorkflowUpdateFailedError, `got ${String(refused)}`);
  assert.equal((refused.cause as Error).message, 'note is 2001 characters long; at most 2000 are kept');

  await signalAction(env.client, groupKey, { action: 'writeOff', by: 'carol', reason: long });
  const state = await waitFor('the write-off recorded', async () => {
    const s = await groupState(env.client, groupKey);
    return s.actions.some((a) => a.action === 'writeOff') ? s : undefined;
  });
  const writeOff = state.actions.find((a) => a.action === 'writeOff')!;
  assert.equal(writeOff.outcome, 'REJECTED');
  assert.equal(writeOff.rejection, 'reason is 2001 characters long; at most 2000 are kept');
  const sent = recorded.find((r) => r.request.action === 'writeOff')!;
  assert.equal(sent.request.action === 'writeOff' && sent.request.reason.length, MAX_ADMIN_TEXT_CHARS);
  assert.equal(recorded.filter((r) => r.request.by === 'bob').length, 0, 'the refused Update reached no activity');
  await recordHistory(env.client.workflow.getHandle(groupWorkflowId(groupKey)), 'quarantine-group-admin-text');
  await env.client.workflow.getHandle(groupWorkflowId(groupKey)).terminate('test done');
});
