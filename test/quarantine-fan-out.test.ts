import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { localTemporal } from './support/temporal';
import { startTestSystem, type TestSystem } from './support/system';
import { waitFor } from './support/wait';
import { NOTIFY_CONCURRENCY } from '../activities/quarantine-notify';
import { runUsageCycleNow } from '../workflows/usage-cycle.api';
import {
  groupKeyFromWorkflowId,
  groupState,
  groupWorkflowId,
  resolveGroup,
  signalLinesAdded,
} from '../workflows/quarantine-group.api';
import { currentDetails } from '../workflows/web-ui.api';
import { recordHistory } from './support/histories';
import { CSP_CARRIER, CSP_QUARANTINE_REASON, CSP_TENANT_ID } from '../workflows/search-attributes';

const EventType = temporal.api.enums.v1.EventType;

let env: TestWorkflowEnvironment;
let sys: TestSystem;
let providerId: string;

before(async () => {
  env = await localTemporal();
  sys = await startTestSystem(env, { usageRecords: 0 });
  providerId = (await sys.onboardSimProvider(0)).id;
});
after(async () => {
  await sys?.stop();
  await env?.teardown();
});

/** The real client, with its signal-with-starts counted as they pass (in flight, and per workflow). */
function countingClient(real: Client) {
  const seen = { running: 0, peak: 0, perWorkflow: new Map<string, number>() };
  const workflow = new Proxy(real.workflow, {
    get(target, prop) {
      if (prop === 'signalWithStart') {
        return async (...args: Parameters<Client['workflow']['signalWithStart']>) => {
          seen.running++;
          seen.peak = Math.max(seen.peak, seen.running);
          const id = args[1].workflowId;
          seen.perWorkflow.set(id, (seen.perWorkflow.get(id) ?? 0) + 1);
          try {
            return await target.signalWithStart(...args);
          } finally {
            seen.running--;
          }
        };
      }
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const client = new Proxy(real, {
    get: (target, prop) => (prop === 'workflow' ? workflow : Reflect.get(target, prop)),
  });
  return { client, seen };
}

test('a cycle tells each of its quarantine groups exactly once, at most NOTIFY_CONCURRENCY at a time; a group starts with its summary and runs no activity', async () => {
  // 150 tenants the provider has no service for, one usage line each: 150 NON_EXISTENT_SERVICE groups.
  const p = sys.sim.dataset.providers[0]!;
  const tenants = sys.sim.dataset.addCustomers(p, 150);
  const today = new Date();
  for (const t of tenants) sys.sim.dataset.addChangeLine(p, t, t.subscriptions[0]!, 1, today);

  const real = sys.deps.temporal;
  const { client, seen } = countingClient(real);
  sys.deps.temporal = client; // what the worker's notify activity signals through
  let summary;
  try {
    summary = await runUsageCycleNow(
      { temporal: env.client, taskQueue: sys.taskQueue },
      { providerId },
      `fan-out-${Date.now()}`,
    );
  } finally {
    sys.deps.temporal = real;
  }
  assert.equal(summary.quarantined, tenants.length);

  // Bounded, and used: the notifier keeps NOTIFY_CONCURRENCY signals in flight, never more.
  assert.equal(seen.peak, NOTIFY_CONCURRENCY, 'signals in flight at once');
  const expected = tenants.map((t) => groupWorkflowId(`${providerId}|NON_EXISTENT_SERVICE|${t.tenantId}`));
  assert.deepEqual([...seen.perWorkflow.keys()].sort(), [...expected].sort(), 'every group, no other workflow');
  for (const [id, n] of seen.perWorkflow) assert.equal(n, 1, `${id} signalled ${n} times`);

  // Each group received exactly one linesAdded (from the server's side: its history), with its
  // summary; its first workflow task scheduled no activity and upserted nothing.
  for (const id of expected) {
    const handle = env.client.workflow.getHandle(id);
    const state = await waitFor(`${id} state`, async () => {
      const s = await groupState(env.client, groupKeyFromWorkflowId(id));
      return s.summary ? s : undefined;
    });
    assert.equal(state.summary!.lines, 1);
    const events = (await handle.fetchHistory()).events ?? [];
    const signals = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    assert.equal(signals.length, 1, `${id}: ${signals.length} signals`);
    assert.equal(signals[0]!.workflowExecutionSignaledEventAttributes?.signalName, 'linesAdded');
    assert.equal(
      events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).length,
      0,
      `${id} ran an activity`,
    );
    assert.equal(
      events.filter((e) => e.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES).length,
      0,
      `${id} upserted search attributes`,
    );
  }

  // What the Web UI shows for one of them: the search attributes set at start, the details from the summary.
  const tenant = tenants[7]!;
  const handle = env.client.workflow.getHandle(
    groupWorkflowId(`${providerId}|NON_EXISTENT_SERVICE|${tenant.tenantId}`),
  );
  const sa = (await handle.describe()).typedSearchAttributes;
  assert.equal(sa.get(CSP_QUARANTINE_REASON), 'NON_EXISTENT_SERVICE');
  assert.equal(sa.get(CSP_TENANT_ID), tenant.tenantId);
  assert.equal(sa.get(CSP_CARRIER), 'Rhipe - Microsoft');
  const details = await currentDetails(env.client, handle.workflowId);
  assert.match(details ?? '', /\*\*NON_EXISTENT_SERVICE\*\*: 1 line\(s\)/);
  assert.ok(details!.includes(tenant.customerName), details);

  // Such a group goes on as any other: written off, it loads its summary again and completes.
  const outcome = await resolveGroup(sys.deps, `${providerId}|NON_EXISTENT_SERVICE|${tenant.tenantId}`, {
    action: 'writeOff',
    by: 'grace',
    reason: 'test tenant',
  });
  assert.equal(outcome.writtenOff, 1);
  assert.equal((await handle.result()).summary!.lines, 0);
  await recordHistory(handle, 'quarantine-group-summary-at-start');
});

test('a group already waiting takes the summary sent with its new lines and runs no activity; an older summary changes nothing; none at all makes it read its lines', async () => {
  // Two new tenants' groups: a first cycle starts them, a second tells them of one more line each.
  const p = sys.sim.dataset.providers[0]!;
  const tenants = sys.sim.dataset.addCustomers(p, 2);
  const today = new Date();
  for (const t of tenants) sys.sim.dataset.addChangeLine(p, t, t.subscriptions[0]!, 1, today);
  await runUsageCycleNow(
    { temporal: env.client, taskQueue: sys.taskQueue },
    { providerId },
    `fan-out-first-${Date.now()}`,
  );
  const groupKey = `${providerId}|NON_EXISTENT_SERVICE|${tenants[0]!.tenantId}`;
  const handle = env.client.workflow.getHandle(groupWorkflowId(groupKey));
  const first = await waitFor(
    'first summary',
    async () => (await groupState(env.client, groupKey)).summary ?? undefined,
  );
  assert.equal(first.lines, 1);
  assert.match(first.asOf ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'stamped by the database');

  for (const t of tenants) sys.sim.dataset.addChangeLine(p, t, t.subscriptions[0]!, 2, today);
  const summary = await runUsageCycleNow(
    { temporal: env.client, taskQueue: sys.taskQueue },
    { providerId },
    `fan-out-again-${Date.now()}`,
  );
  assert.equal(summary.quarantined, tenants.length, 'only the new lines are mediated');

  const activities = async () =>
    ((await handle.fetchHistory()).events ?? []).filter(
      (e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    ).length;
  const signalled = async () =>
    ((await handle.fetchHistory()).events ?? []).filter(
      (e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    ).length;
  const second = await waitFor('the second summary', async () => {
    const s = (await groupState(env.client, groupKey)).summary;
    return s && s.lines === 2 ? s : undefined;
  });
  assert.ok(second.asOf! > first.asOf!, `${second.asOf} after ${first.asOf}`);
  assert.equal(await signalled(), 2);
  assert.equal(await activities(), 0, 'the summary sent along was taken: no activity read it again');

  // A summary read before the one the group holds (its lines are counted already): nothing changes.
  await signalLinesAdded({ temporal: env.client, taskQueue: sys.taskQueue }, groupKey, {
    source: 'test',
    count: 1,
    summary: { ...first, lines: 99 },
  });
  await waitFor('the older summary handled (its workflow task completed)', async () => {
    const events = (await handle.fetchHistory()).events ?? [];
    const signals = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    return (
      (signals.length === 3 && events[events.length - 1]!.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) ||
      undefined
    );
  });
  assert.equal((await groupState(env.client, groupKey)).summary!.lines, 2, 'the older summary was not taken');
  assert.equal(await activities(), 0);

  // No summary: the group reads its lines itself, once.
  await signalLinesAdded({ temporal: env.client, taskQueue: sys.taskQueue }, groupKey, { source: 'test', count: 1 });
  await waitFor('the group read its lines', async () => (await activities()) === 1 || undefined);
  const reread = await waitFor('its own summary', async () => {
    const s = (await groupState(env.client, groupKey)).summary;
    return s && s.asOf! > second.asOf! ? s : undefined;
  });
  assert.equal(reread.lines, 2);
  await recordHistory(handle, 'quarantine-group-lines-added-again');
});
