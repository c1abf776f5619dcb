import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { workflowsWithActivities, type WorkerUnderTest } from './support/temporal';
import { waitFor } from './support/wait';
import { recordHistory } from './support/histories';
import {
  groupState,
  groupWorkflowId,
  resolveGroup,
  signalAction,
  signalLinesAdded,
  type ActionOutcome,
  type QuarantineActivities,
} from '../workflows/quarantine-group.api';

// A quarantine group whose history grows long continues as new between actions, carrying its
// recent actions; an admin's Update sent across it is answered. A dev server that suggests
// continuing as new early, with activities that change nothing.

let env: TestWorkflowEnvironment;
let stack: WorkerUnderTest | undefined;
const taskQueue = `group-can-${randomUUID()}`;

const activities: QuarantineActivities = {
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
  applyQuarantineAction: async (input) =>
    ({
      requestId: input.request.requestId,
      action: input.request.action,
      by: input.request.by,
      outcome: 'REJECTED',
      rejection: input.rejection ?? 'the service does not exist',
      lines: 0,
      billed: 0,
      requarantined: 0,
      writtenOff: 0,
      amount: '0',
      at: new Date().toISOString(),
    }) satisfies ActionOutcome,
};

before(async () => {
  stack = await workflowsWithActivities(activities, taskQueue, { 'limit.historyCount.suggestContinueAsNew': 20 });
  env = stack.env;
});
after(async () => {
  await stack?.stop();
});

test('a group continues as new once its history is long, keeping its recent actions; signals and Updates reach the new run', async () => {
  const groupKey = `p-test|NON_EXISTENT_SERVICE|tenant-${randomUUID()}`;
  const starter = { temporal: env.client, taskQueue };
  await signalLinesAdded(starter, groupKey, { source: 'cycle-1', count: 3 });
  const handle = env.client.workflow.getHandle(groupWorkflowId(groupKey));
  const firstRunId = (await handle.describe()).runId;
  await signalAction(env.client, groupKey, { action: 'allocate', serviceId: 'S-404', by: 'alice' });
  await signalAction(env.client, groupKey, { action: 'cleanse', by: 'bob' });
  await waitFor('continued as new', async () => ((await handle.describe()).runId !== firstRunId ? true : undefined));
  const outcome = await resolveGroup(starter, groupKey, { action: 'cleanse', by: 'carol' });
  assert.equal(outcome.by, 'carol');
  const state = await groupState(env.client, groupKey);
  assert.deepEqual(
    state.actions.map((a) => a.by),
    ['alice', 'bob', 'carol'],
    'the actions of the first run carried into the next',
  );
  await recordHistory(
    env.client.workflow.getHandle(groupWorkflowId(groupKey), firstRunId),
    'quarantine-group-continue-as-new',
  );
  await handle.terminate('test done');
});
