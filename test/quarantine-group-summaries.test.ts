import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { localTemporal } from './support/temporal';
import { waitFor } from './support/wait';
import { recordHistory } from './support/histories';
import { workflowBundle } from '../workers/worker';
import { groupStateQuery, linesAddedSignal, quarantineGroupWorkflow, writeOffSignal, type QuarantineActivities } from '../workflows/quarantine-group';
import type { ActionOutcome, GroupSummary } from '../workflows/types';

// A group workflow against a real dev server, with activities the test holds: which summary the
// group keeps when its own read and a cycle's signal cross.

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const EventType = temporal.api.enums.v1.EventType;
const taskQueue = `group-summaries-${randomUUID()}`;
const groupKey = 'p-test|NON_EXISTENT_SERVICE|tenant-1';

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
  applyQuarantineAction: async (input) => ({
    requestId: input.request.requestId!, action: input.request.action, by: input.request.by, outcome: 'APPLIED', writtenOff: 3,
  } as unknown as ActionOutcome),
};

function summary(lines: number, asOf: string | undefined): GroupSummary {
  return {
    groupKey, providerId: 'p-test', reason: 'NON_EXISTENT_SERVICE', tenantRef: 'tenant-1', lines, carrierCharge: String(lines), periodFrom: null, periodTo: null,
    ...(asOf ? { asOf } : {}),
  };
}

before(async () => {
  env = await localTemporal();
  worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
  running = worker.run();
});
after(async () => {
  // A test that failed may have left a read held: answer it, or the worker's shutdown would wait for it.
  for (const answer of reads.splice(0)) answer(summary(1, undefined));
  worker?.shutdown();
  await running;
  await env?.teardown();
});

/** Waits until `activities` activities have completed and the workflow task after the last one has too. */
async function settledAfter(handle: Awaited<ReturnType<typeof startGroup>>, activities: number): Promise<void> {
  await waitFor(`${activities} activities and the task after them`, async () => {
    const events = (await handle.fetchHistory()).events ?? [];
    const completed = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
    if (completed.length < activities) return undefined;
    const last = events[events.length - 1]!;
    return last.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED || last.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED || undefined;
  });
}

/** The workflow's result, or a failure after 60 s (not the whole test run's timeout). */
async function resultWithin(handle: Awaited<ReturnType<typeof startGroup>>) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${handle.workflowId} did not complete within 60 s`)), 60_000); });
  try {
    return await Promise.race([handle.result(), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function startGroup(workflowId: string, first: GroupSummary) {
  assert.equal(reads.length, 0, 'a read left held by an earlier test');
  return env.client.workflow.signalWithStart(quarantineGroupWorkflow, {
    taskQueue, workflowId, args: [{ groupKey, providerId: 'p-test', reason: 'NON_EXISTENT_SERVICE', tenantRef: 'tenant-1', searchAttributesAtStart: true }],
    signal: linesAddedSignal, signalArgs: [{ source: 'cycle-1', count: 3, summary: first }],
  });
}

test('new lines told while the group reads its own summary: the later-read summary is kept, and a zero read meanwhile is read again', async () => {
  const handle = await startGroup(`group-crossing-${randomUUID()}`, summary(3, '2026-11-27T10:00:00.000000Z'));
  // A write-off of its three lines; the group reads its summary after it, and that read is held.
  await handle.signal(writeOffSignal, { by: 'grace', reason: 'test tenant' });
  await waitFor('the read after the write-off', async () => reads.length === 1 || undefined);
  // Meanwhile a cycle adds two lines and tells the group, with a summary read later than the group's.
  await handle.signal(linesAddedSignal, { source: 'cycle-2', count: 2, summary: summary(2, '2026-11-27T10:00:02.000000Z') });
  await waitFor('the signal handled', async () => ((await handle.query(groupStateQuery)).summary?.lines === 2) || undefined);
  reads.shift()!(summary(0, '2026-11-27T10:00:01.000000Z'));
  // The zero may miss the lines told meanwhile: the group reads again, and shows the later summary until then.
  await waitFor('the group reads again', async () => reads.length === 1 || undefined);
  const state = await handle.query(groupStateQuery);
  assert.equal(state.summary!.lines, 2);
  assert.equal(state.summary!.asOf, '2026-11-27T10:00:02.000000Z');
  await recordHistory(handle, 'quarantine-group-read-crossed-by-lines');
  reads.shift()!(summary(2, '2026-11-27T10:00:03.000000Z'));
  await settledAfter(handle, 3);
  assert.equal((await handle.describe()).status.name, 'RUNNING', 'the group must wait for its two new lines');
  await handle.terminate('test done');
});

test('new lines told with no summary while the group reads its own: it reads again before it may complete', async () => {
  const handle = await startGroup(`group-crossing-unsummarised-${randomUUID()}`, summary(3, '2026-11-27T10:30:00.000000Z'));
  await handle.signal(writeOffSignal, { by: 'grace', reason: 'test tenant' });
  await waitFor('the read after the write-off', async () => reads.length === 1 || undefined);
  await handle.signal(linesAddedSignal, { source: 'cycle-2', count: 2 });
  await waitFor('the signal received', async () => ((await handle.fetchHistory()).events ?? []).filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED).length === 3 || undefined);
  reads.shift()!(summary(0, '2026-11-27T10:30:01.000000Z'));
  await waitFor('the group reads again', async () => reads.length === 1 || undefined);
  reads.shift()!(summary(2, '2026-11-27T10:30:02.000000Z'));
  await settledAfter(handle, 3);
  await recordHistory(handle, 'quarantine-group-read-crossed-unsummarised');
  assert.equal((await handle.describe()).status.name, 'RUNNING');
  assert.equal((await handle.query(groupStateQuery)).summary!.lines, 2);
  await handle.terminate('test done');
});

test('a zero read while new lines were told is read again, even when its stamp says it is the later read', async () => {
  // Stamps order reads closely, not exactly (a clock step, or a statement's snapshot taken just
  // before its stamp): completion never rests on them.
  const handle = await startGroup(`group-crossing-stamps-${randomUUID()}`, summary(3, '2026-11-27T10:45:00.000000Z'));
  await handle.signal(writeOffSignal, { by: 'grace', reason: 'test tenant' });
  await waitFor('the read after the write-off', async () => reads.length === 1 || undefined);
  await handle.signal(linesAddedSignal, { source: 'cycle-2', count: 2, summary: summary(2, '2026-11-27T10:45:01.000000Z') });
  await waitFor('the signal handled', async () => ((await handle.query(groupStateQuery)).summary?.lines === 2) || undefined);
  reads.shift()!(summary(0, '2026-11-27T10:45:02.000000Z'));
  await waitFor('the group reads again', async () => reads.length === 1 || undefined);
  reads.shift()!(summary(2, '2026-11-27T10:45:03.000000Z'));
  await settledAfter(handle, 3);
  await recordHistory(handle, 'quarantine-group-read-crossed-stamps-out-of-order');
  assert.equal((await handle.describe()).status.name, 'RUNNING');
  assert.equal((await handle.query(groupStateQuery)).summary!.lines, 2);
  await handle.terminate('test done');
});

test('a read that is the later one replaces the summary, and a group with no line left completes', async () => {
  const handle = await startGroup(`group-later-read-${randomUUID()}`, summary(3, '2026-11-27T11:00:00.000000Z'));
  await handle.signal(writeOffSignal, { by: 'grace', reason: 'test tenant' });
  await waitFor('the read after the write-off', async () => reads.length === 1 || undefined);
  reads.shift()!(summary(0, '2026-11-27T11:00:01.000000Z'));
  assert.equal((await resultWithin(handle)).summary!.lines, 0);
});

test('a read with no lines told during it is the truth, whatever its stamp says (a clock stepped back): the group completes', async () => {
  const handle = await startGroup(`group-clock-back-${randomUUID()}`, summary(3, '2026-11-27T15:00:05.000000Z'));
  await handle.signal(writeOffSignal, { by: 'grace', reason: 'test tenant' });
  await waitFor('the read after the write-off', async () => reads.length === 1 || undefined);
  reads.shift()!(summary(0, '2026-11-27T15:00:03.000000Z'));
  assert.equal((await resultWithin(handle)).summary!.lines, 0);
});

test('summaries without a stamp (an earlier version read them) are taken as read, as before', async () => {
  const handle = await startGroup(`group-unstamped-${randomUUID()}`, summary(3, undefined));
  // An unstamped summary cannot be compared: a later signal with one makes the group read again.
  await handle.signal(linesAddedSignal, { source: 'cycle-2', count: 1, summary: summary(4, '2026-11-27T12:00:00.000000Z') });
  await waitFor('the group reads again', async () => reads.length === 1 || undefined);
  reads.shift()!(summary(4, undefined));
  await waitFor('the read taken', async () => ((await handle.query(groupStateQuery)).summary?.lines === 4) || undefined);
  assert.equal((await handle.query(groupStateQuery)).summary!.asOf, undefined, 'the read replaced the summary');
  await handle.terminate('test done');
});
