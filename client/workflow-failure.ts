import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  TemporalFailure,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type Workflow,
  type WorkflowHandle,
  type WorkflowResultType,
} from '@temporalio/client';
import { UserError } from './errors';
import { ActionNotAccepted } from '../workflows/tenant.api';

/**
 * A failure's cause chain, outermost first, one line per link: which activity or child failed
 * (with its attempt), then the root cause's type and message. "Workflow execution failed" alone
 * tells an admin nothing; the root cause (e.g. `UNEXPECTED_SHAPE: field 0.CustomerId: …`) does.
 */
export function failureChain(err: unknown): string[] {
  const links: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    links.push(describe(current));
    current = current.cause;
  }
  // Wrappers that say nothing of their own ("Workflow execution failed", "Activity task failed") are dropped when a cause follows.
  return links.filter((l, i) => l !== '' || i === links.length - 1);
}

function describe(e: Error): string {
  if (e instanceof WorkflowFailedError) return '';
  if (e instanceof WorkflowUpdateFailedError) return '';
  if (e instanceof ActivityFailure)
    return `activity ${e.activityType ?? '?'} (id ${e.activityId ?? '?'}) failed${e.retryState ? `, retry state ${retryState(e.retryState)}` : ''}`;
  if (e instanceof ChildWorkflowFailure)
    return `child workflow ${e.execution?.workflowId ?? '?'} (${e.workflowType ?? '?'}) failed`;
  if (e instanceof ApplicationFailure)
    return `${e.type && e.type !== 'Error' ? `${e.type}: ` : ''}${e.message}${e.nonRetryable ? ' (not retried)' : ''}`;
  if (e instanceof TimeoutFailure) return `timed out (${String(e.timeoutType)})`;
  if (e instanceof TerminatedFailure) return `terminated: ${e.message}`;
  if (e instanceof CancelledFailure) return `cancelled: ${e.message}`;
  if (e instanceof TemporalFailure) return `${e.name}: ${e.message}`;
  return `${e.name}: ${e.message}`;
}

function retryState(s: unknown): string {
  const text = String(s);
  return text
    .replace(/^RETRY_STATE_/, '')
    .toLowerCase()
    .replace(/_/g, ' ');
}

/** The failure as the CLI prints it: what failed, then each cause indented below it. */
export function failureReport(what: string, err: unknown): string {
  const chain = failureChain(err).filter((l) => l !== '');
  return [`${what} failed`, ...chain.map((l) => `  caused by: ${l}`)].join('\n');
}

/** Waits for a workflow's result; a failure becomes an error whose message carries the cause chain. */
export async function waitForWorkflow<W extends Workflow>(handle: WorkflowHandle<W>): Promise<WorkflowResultType<W>> {
  try {
    return await handle.result();
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new UserError(failureReport(`workflow ${handle.workflowId}`, err), 1);
    throw err;
  }
}

/**
 * An admin's Update that failed, as the CLI reports it: refused, with its cause chain (exit 2), or
 * not accepted within the wait (exit 3, a service unavailable). Anything else is returned as it is.
 */
export function cliUpdateFailure(err: unknown): unknown {
  if (err instanceof ActionNotAccepted) return new UserError(err.message, 3);
  if (err instanceof WorkflowUpdateFailedError)
    return new UserError(
      `refused: ${failureChain(err.cause ?? err)
        .filter(Boolean)
        .join('\n  caused by: ')}`,
    );
  return err;
}
