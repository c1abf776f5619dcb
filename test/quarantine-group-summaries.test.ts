import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { workflowsWithActivities, type WorkerUnderTest } from './support/temporal';
import { waitFor } from './support/wait';
import { recordHistory } from './support/histories';
import {
  groupState,
  groupWorkflowId,
  signalAction,
  signalLinesAdded,
  type LinesAdded,
  type QuarantineActivities,
} from '../workflows/quarantine-group.api';
import type { ActionOutcome, GroupSummary } from '../workflows/quarantine-group.api';

// A group workflow against a real dev server, with activities the test holds: which summary the
// group keeps when its own read and a cycle's signal cross.

let env: TestWorkflowEnvironment;
let stack: WorkerUnderTest | undefined;
const EventType = temporal.api.enums.v1.EventType;
const taskQueue = `group-summaries-${randomUUID()}`;
/** Each test's own group. */
let groupKey = '';
beforeEach(() => {
  groupKey = `p-test|NON_EXISTENT_SERVICE|tenant-${randomUUID()}`;
});

/** The group's reads: each waits until the test answers it, heartbeating (its timeout is 10 s). */
const reads: Array<(s: GroupSummary) => void> = [];
const activities: QuarantineActivities = {
  loadGroupSummary: async () => {
    const beat = setInterval(() => Context.current().heartbeat(), 1000);
    try {
      return await new Promise<GroupSummary>((resolve) => reads.push(resolve));
    } finally {
      clearInterval(beat);
    }
  },
  applyQuarantineAction: async (input) =>
    ({
      requestId: input.request.requestId,
      action: input.request.action,
      by: input.request.by,
      outcome: 'APPLIED',
      writtenOff: 3,
    }) as unknown as ActionOutcome,
};

function summary(lines: number, asOf: string | undefined): GroupSummary {
  return {
    groupKey,
    providerId: 'p-test',
    reason: 'NON_EXISTENT_SERVICE',
    tenantRef: 'tenant-1',
    lines,
    carrierCharge: String(lines),
    periodFrom: null,
    periodTo: null,
    ...(asOf ? { asOf } : {}),
  };
}

before(async () => {
  stack = await workflowsWithActivities(activities, taskQueue);
  env = stack.env;
});
after(async () => {
  // A test that failed may have left a read held: answer it, or the worker's shutdown would wait for it.
  for (const answer of reads.splice(0)) answer(summary(1, undefined));
  await stack?.stop();
});

/** Waits until `activities` activities have completed and the workflow task after the last one has too. */
async function settledAfter(handle: Awaited<ReturnType<typeof startGroup>>, activities: number): Promise<void> {
  await waitFor(`${activities} activities and the task after them`, async () => {
    const events = (await handle.fetchHistory()).events ?? [];
    const completed = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
    if (completed.length < activities) return undefined;
    const last = events[events.length - 1]!;
    return (
      last.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED ||
      last.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED ||
      undefined
    );
  });
}

/** The workflow's result, or a failure after 60 s (not the whole test run's timeout). */
async function resultWithin(handle: Awaited<ReturnType<typeof startGroup>>) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${handle.workflowId} did not complete within 60 s`)), 60_000);
  });
  try {
    return await Promise.race([handle.result(), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function startGroup(first: GroupSummary) {
  assert.equal(reads.length, 0, 'a read left held by an earlier test');
  await signalLinesAdded({ temporal: env.client, taskQueue }, groupKey, {
    source: 'cycle-1',
    count: 3,
    summary: first,
  });
  // For its history, status and result; messages go through quarantine-group.api.ts.
  return env.client.workflow.getHandle(groupWorkflowId(groupKey));
}

/**
 * A group of three lines is written off; while it reads its summary after that, a cycle tells it
 * of two new lines (`told`), and the read then comes back empty, stamped `zeroAt`. Returns once
 * the group has asked to read again (it must: the zero may miss the lines told meanwhile).
 */
async function writeOffCrossedByLines(told: LinesAdded, zeroAt: string) {
  const handle = await startGroup(summary(3, '2026-11-27T10:00:00.000000Z'));
  await signalAction(env.client, groupKey, { action: 'writeOff', by: 'grace', reason: 'test tenant' });
  await waitFor('the read after the write-off', async () => reads.length === 1 || undefined);
  await signalLinesAdded({ temporal: env.client, taskQueue }, groupKey, told);
  // In history before the read's result, so the group handles it first.
  await waitFor(
    'the signal recorded',
    async () =>
      ((await handle.fetchHistory()).events ?? []).filter(
        (e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
      ).length === 3 || undefined,
  );
  reads.shift()!(summary(0, zeroAt));
  await waitFor('the group reads again', async () => reads.length === 1 || undefined);
  return handle;
}

/** The second read finds the two new lines: the group waits for an admin with them. */
async function findsTheTwoLines(handle: Awaited<ReturnType<typeof startGroup>>, history: string) {
  reads.shift()!(summary(2, '2026-11-27T10:00:09.000000Z'));
  await settledAfter(handle, 3);
  await recordHistory(handle, history);
  assert.equal((await handle.describe()).status.name, 'RUNNING', 'the group must wait for its two new lines');
  assert.equal((await groupState(env.client, groupKey)).summary!.lines, 2);
  await handle.terminate('test done');
}

test('new lines told while the group reads its own summary: the later-read summary is kept, and a zero read meanwhile is read again', async () => {
  const handle = await writeOffCrossedByLines(
    { source: 'cycle-2', count: 2, summary: summary(2, '2026-11-27T10:00:02.000000Z') },
    '2026-11-27T10:00:01.000000Z',
  );
  // Until then it shows the summary sent with the lines, read later than its own.
  const state = await groupState(env.client, groupKey);
  assert.equal(state.summary!.lines, 2);
  assert.equal(state.summary!.asOf, '2026-11-27T10:00:02.000000Z');
  await findsTheTwoLines(handle, 'quarantine-group-read-crossed-by-lines');
});

test('new lines told with no summary while the group reads its own: it reads again before it may complete', async () => {
  const handle = await writeOffCrossedByLines({ source: 'cycle-2', count: 2 }, '2026-11-27T10:00:01.000000Z');
  await findsTheTwoLines(handle, 'quarantine-group-read-crossed-unsummarised');
});

test('a zero read while new lines were told is read again, even when its stamp says it is the later read', async () => {
  // Stamps order reads closely, not exactly (a clock step, or a statement's snapshot taken just
  // before its stamp): completion never rests on them.
  const handle = await writeOffCrossedByLines(
    { source: 'cycle-2', count: 2, summary: summary(2, '2026-11-27T10:00:01.000000Z') },
    '2026-11-27T10:00:02.000000Z',
  );
  await findsTheTwoLines(handle, 'quarantine-group-read-crossed-stamps-out-of-order');
});

// A read with no lines told during it is the truth, whatever its stamp says.
for (const { title, heldAt, readAt } of [
  {
    title: 'a read replaces the summary, and a group with no line left completes',
    heldAt: '2026-11-27T11:00:00.000000Z',
    readAt: '2026-11-27T11:00:01.000000Z',
  },
  {
    title:
      'a read stamped earlier than the summary held (a clock stepped back) replaces it all the same: the group completes',
    heldAt: '2026-11-27T15:00:05.000000Z',
    readAt: '2026-11-27T15:00:03.000000Z',
  },
]) {
  test(title, async () => {
    const handle = await startGroup(summary(3, heldAt));
    await signalAction(env.client, groupKey, { action: 'writeOff', by: 'grace', reason: 'test tenant' });
    await waitFor('the read after the write-off', async () => reads.length === 1 || undefined);
    reads.shift()!(summary(0, readAt));
    assert.equal((await resultWithin(handle)).summary!.lines, 0);
  });
}

test('summaries without a stamp (an earlier version read them) are taken as read, as before', async () => {
  const handle = await startGroup(summary(3, undefined));
  // An unstamped summary cannot be compared: a later signal with one makes the group read again.
  await signalLinesAdded({ temporal: env.client, taskQueue }, groupKey, {
    source: 'cycle-2',
    count: 1,
    summary: summary(4, '2026-11-27T12:00:00.000000Z'),
  });
  await waitFor('the group reads again', async () => reads.length === 1 || undefined);
  reads.shift()!(summary(4, undefined));
  await waitFor(
    'the read taken',
    async () => (await groupState(env.client, groupKey)).summary?.lines === 4 || undefined,
  );
  assert.equal((await groupState(env.client, groupKey)).summary!.asOf, undefined, 'the read replaced the summary');
  await handle.terminate('test done');
});
