import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { localTemporal } from './support/temporal';
import { startTestSystem, type TestSystem } from './support/system';
import { describeCycleProgress, startUsageCycleNow } from '../workflows/usage-cycle.api';

// A cycle whose activity keeps being retried says why (attempt, last failure), not only RUNNING.
let env: TestWorkflowEnvironment;
let sys: TestSystem;

before(async () => {
  env = await localTemporal();
  sys = await startTestSystem(env, { usageRecords: 100, pageSize: 50 });
});
after(async () => {
  await sys?.stop();
  await env?.teardown();
});

test('a cycle waiting on a retried activity shows the activity, its attempt and the last failure in its progress', async () => {
  const provider = await sys.onboardSimProvider(0, { withRateCard: true });
  sys.sim.faults.set([{ endpoint: 'usage', kind: 'http503', times: 1000 }]);
  const handle = await startUsageCycleNow(
    { temporal: env.client, taskQueue: sys.taskQueue },
    { providerId: provider.id },
    `waiting-${provider.id}`,
  );
  const deadline = Date.now() + 90_000;
  let view = await describeCycleProgress(env.client, handle.workflowId);
  while (!view.waitingOn.some((w) => w.attempt >= 2)) {
    assert.ok(Date.now() < deadline, `no retried activity reported: ${JSON.stringify(view)}`);
    await new Promise((r) => setTimeout(r, 500));
    view = await describeCycleProgress(env.client, handle.workflowId);
  }
  assert.equal(view.status, 'RUNNING');
  assert.equal(view.progress?.phase, 'fetching');
  const waiting = view.waitingOn[0]!;
  assert.equal(waiting.activity, 'fetchUsage');
  assert.match(waiting.lastFailure ?? '', /503/);
  sys.sim.faults.clear();
  await handle.result();
  const done = await describeCycleProgress(env.client, handle.workflowId);
  assert.equal(done.status, 'COMPLETED');
  assert.deepEqual(done.waitingOn, []);
});
