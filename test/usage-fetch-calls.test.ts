import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { localTemporal } from './support/temporal';
import { startTestSystem, type TestSystem } from './support/system';
import { usageCycleWorkflow } from '../workflows/usage-cycle';

/**
 * A fetch call takes up to 25 pages (workflows/usage-cycle.ts). The page after its last is
 * requested while that last one is decided: when the carrier answers that there is none, the call
 * ends the fetch itself. A window of exactly 25 pages is fetched in one call, not two (the second
 * only to find an empty page), and one of 26 pages in two.
 */

const PAGE = 10;
let env: TestWorkflowEnvironment;
let sys: TestSystem;

before(async () => {
  env = await localTemporal();
  sys = await startTestSystem(env, { usageRecords: 25 * PAGE, pageSize: PAGE });
});
after(async () => {
  await sys?.stop();
  await env?.teardown();
});

async function fetchCalls(workflowId: string): Promise<number> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'fetchUsage').length;
}

test('a window of exactly one call\'s pages is fetched in that call; one page more takes a second', async () => {
  const provider = await sys.onboardSimProvider(0);
  const first = `fetch-calls-${provider.id}-25`;
  const summary = await env.client.workflow.execute(usageCycleWorkflow, { taskQueue: sys.taskQueue, workflowId: first, args: [{ providerId: provider.id }], workflowExecutionTimeout: '2 minutes' });
  assert.equal(summary.fetched, 25 * PAGE);
  assert.equal(await fetchCalls(first), 1);

  // One line more: a 26th page, which the first call leaves for a second one (from the stored resume point).
  const extra = sys.sim.dataset.providers[0]!.extraLines;
  extra.push(sys.sim.dataset.usageLineJson(0, 0).replace(/"RecordId":"[^"]*"/, '"RecordId":"fetch-calls-26th-page"'));
  const second = `fetch-calls-${provider.id}-26`;
  const again = await env.client.workflow.execute(usageCycleWorkflow, { taskQueue: sys.taskQueue, workflowId: second, args: [{ providerId: provider.id }], workflowExecutionTimeout: '2 minutes' });
  assert.equal(again.fetched, 25 * PAGE + 1);
  assert.equal(again.duplicatesSkipped, 25 * PAGE, 'the first 250 lines are exact repeats of the first cycle');
  assert.equal(await fetchCalls(second), 2);
});
