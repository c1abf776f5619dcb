import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ActivityFailure,
  ApplicationFailure,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { RetryState } from '@temporalio/common';
import { failureChain, failureReport } from '../client/workflow-failure';

const root = ApplicationFailure.create({
  type: 'UNEXPECTED_SHAPE',
  message: 'GET /api/v1/me/customers: field 0.CustomerId: expected a string',
  nonRetryable: true,
});
const activity = new ActivityFailure(
  'Activity task failed',
  'listDiscoveryCustomers',
  '3',
  RetryState.NON_RETRYABLE_FAILURE,
  'worker@host',
  root,
);

test('a failed workflow is reported with its cause chain: activity, type, message', () => {
  const report = failureReport(
    'workflow onboarding:p-1',
    new WorkflowFailedError('Workflow execution failed', activity, RetryState.NON_RETRYABLE_FAILURE),
  );
  assert.equal(
    report,
    [
      'workflow onboarding:p-1 failed',
      '  caused by: activity listDiscoveryCustomers (id 3) failed, retry state non retryable failure',
      '  caused by: UNEXPECTED_SHAPE: GET /api/v1/me/customers: field 0.CustomerId: expected a string (not retried)',
    ].join('\n'),
  );
  assert.doesNotMatch(report, /Workflow execution failed|Activity task failed/);
});

test('an update that failed in an activity names the activity and the root cause; a refusal is its message', () => {
  const chain = failureChain(new WorkflowUpdateFailedError('Workflow Update failed', activity)).filter(Boolean);
  assert.equal(chain.length, 2);
  assert.match(chain[1]!, /^UNEXPECTED_SHAPE: GET/);
  const refusal = failureChain(
    new WorkflowUpdateFailedError(
      'Workflow Update failed',
      ApplicationFailure.create({ message: 'quantity 900 is above the maximum 300' }),
    ),
  ).filter(Boolean);
  assert.deepEqual(refusal, ['quantity 900 is above the maximum 300']);
});
