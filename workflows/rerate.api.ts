import { randomBytes } from 'node:crypto';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { rerateWorkflow, type RerateInput, type RerateResult } from './rerate';
import { CSP_PROVIDER_ID } from './search-attributes';
import type { WorkflowStarter } from './starter';

export type { RerateActivities, RerateBatchInput, RerateInput, RerateResult } from './rerate';

/** One re-rate of a provider's month: `rerate:<provider>:<period>:<id>`, a fresh id each time. */
export const rerateWorkflowId = (providerId: string, period: string, id: string) =>
  `rerate:${providerId}:${period}:${id}`;

/** How long an admin's command waits for a re-rate before it says it is still running. */
export const RERATE_WAIT_MS = 120_000;

/** A re-rate the system refused (the month was closed meanwhile): the admin's to fix. */
export class RerateRefused extends Error {
  override name = 'RerateRefused';
}

export type RerateRun =
  { status: 'completed'; workflowId: string; result: RerateResult } | { status: 'running'; workflowId: string };

/**
 * Starts a re-rate and waits for it at most `waitMs`: past that the admin is told it was accepted
 * and is still running (its progress shows in the Web UI as the workflow's current details).
 * A re-rate that failed (a month closed meanwhile) throws its failure.
 */
export async function runRerate(t: WorkflowStarter, input: RerateInput, waitMs = RERATE_WAIT_MS): Promise<RerateRun> {
  const id = `${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(2).toString('hex')}`;
  const workflowId = rerateWorkflowId(input.providerId, input.period, id);
  const handle = await t.temporal.workflow.start(rerateWorkflow, {
    taskQueue: t.taskQueue,
    workflowId,
    args: [input],
    typedSearchAttributes: [{ key: CSP_PROVIDER_ID, value: input.providerId }],
    staticSummary: `Re-rate of ${input.providerId} for ${input.period} by ${input.by}`,
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), waitMs)));
  try {
    const outcome = await Promise.race([handle.result(), deadline]);
    if (outcome === 'deadline') return { status: 'running', workflowId };
    return { status: 'completed', workflowId, result: outcome };
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      let cause: Error | undefined = err.cause;
      while (cause && !(cause instanceof ApplicationFailure) && cause.cause instanceof Error) cause = cause.cause;
      if (cause instanceof ApplicationFailure && cause.type === 'PERIOD_CLOSED') throw new RerateRefused(cause.message);
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
