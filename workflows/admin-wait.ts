import type { Client, WorkflowUpdateHandle } from '@temporalio/client';
import { loadConfig } from '../config';

/**
 * How long an admin (the CLI, the console) waits on a workflow's answer: ADMIN_WAIT_SECONDS (30 s
 * unless set; tests make it short), checked with the rest of the configuration. Past it the admin
 * is told the action was accepted and is still running, or that it was not accepted: never a hang.
 */
export function adminWaitMs(): number {
  return loadConfig().ADMIN_WAIT_SECONDS * 1000;
}

/** The workflow accepted the action and is still carrying it out: its result will be recorded. */
export class ActionStillRunning extends Error {
  override name = 'ActionStillRunning';
  constructor(
    readonly workflowId: string,
    readonly updateId: string,
    waitedMs: number,
  ) {
    super(
      `accepted: still running after ${waitedMs / 1000} s (workflow ${workflowId}, update ${updateId}); its outcome will be in the audit trail`,
    );
  }
}

/** The action was not accepted in time (no worker answering, Temporal busy): nothing was done. */
export class ActionNotAccepted extends Error {
  override name = 'ActionNotAccepted';
  constructor(workflowId: string, waitedMs: number) {
    super(
      `service unavailable: workflow ${workflowId} did not accept the action within ${waitedMs / 1000} s (is a worker running?); nothing was done, send it again later`,
    );
  }
}

type Settled<T> = { value: T } | { error: unknown } | 'late';

/** `work`, or 'late' once `ms` have passed (the calls it made are then cancelled). */
async function within<T>(client: Client, ms: number, work: () => Promise<T>): Promise<Settled<T>> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  const settled = client.withAbortSignal(abort.signal, work).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

/**
 * Starts an Update (or update-with-start) that waits only for it to be accepted, then waits for
 * its result, both within `deadlineMs` in all: throws ActionNotAccepted or ActionStillRunning past it.
 */
export async function answerWithin<T>(
  client: Client,
  workflowId: string,
  startUpdate: () => Promise<WorkflowUpdateHandle<T>>,
  deadlineMs = adminWaitMs(),
  onAccepted?: () => void,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  const accepted = await within(client, deadlineMs, startUpdate);
  if (accepted === 'late') throw new ActionNotAccepted(workflowId, deadlineMs);
  if ('error' in accepted) throw accepted.error;
  const handle = accepted.value;
  onAccepted?.();
  const result = await within(client, Math.max(0, deadline - Date.now()), () => handle.result());
  if (result === 'late') throw new ActionStillRunning(workflowId, handle.updateId, deadlineMs);
  if ('error' in result) throw result.error;
  return result.value;
}
