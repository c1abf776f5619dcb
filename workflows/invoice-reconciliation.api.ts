import {
  ScheduleAlreadyRunning,
  WorkflowFailedError,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type Client,
  type ScheduleOptions,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  invoiceReconciliationWorkflow,
  type InvoiceReconciliationInput,
  type InvoiceReconciliationResult,
} from './invoice-reconciliation';
import { CSP_PROVIDER_ID } from './search-attributes';
import type { WorkflowStarter } from './starter';
import { adminWaitMs } from './admin-wait';

export type {
  InvoiceReconciliationActivities,
  InvoiceReconciliationInput,
  InvoiceReconciliationResult,
  NotInFeedOutcome,
} from './invoice-reconciliation';

/** When a provider's monthly invoice reconciliation runs. */
export interface ReconciliationTiming {
  /** Day of the month (1-28), once the carrier's invoice is expected. */
  dayOfMonth: number;
  /** HH:MM in the provider's time zone. */
  time: string;
}

/** The invoice reconciliation workflow's contract: its types, ids, and how it is started (on demand per month, and monthly by schedule). */
export const invoiceReconciliationWorkflowId = (providerId: string, period: string) =>
  `invoice-reconciliation:${providerId}:${period}`;
export const invoiceReconciliationScheduleId = (providerId: string) => `invoice-reconciliation-schedule:${providerId}`;
/** Scheduled runs get this id plus the schedule's timestamp. */
export const scheduledInvoiceReconciliationWorkflowId = (providerId: string) =>
  `invoice-reconciliation:${providerId}:scheduled`;

/**
 * Starts (or joins, if one is running) the reconciliation of one provider's month. A finished one
 * may be run again: the result is stored per invoice version, so a repeat changes nothing.
 */
export async function startInvoiceReconciliation(
  t: WorkflowStarter,
  providerId: string,
  period: string,
): Promise<WorkflowHandle<typeof invoiceReconciliationWorkflow>> {
  const input: InvoiceReconciliationInput = { providerId, period };
  return t.temporal.workflow.start(invoiceReconciliationWorkflow, {
    taskQueue: t.taskQueue,
    workflowId: invoiceReconciliationWorkflowId(providerId, period),
    args: [input],
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    typedSearchAttributes: [{ key: CSP_PROVIDER_ID, value: providerId }],
    staticSummary: `Invoice reconciliation of ${providerId} for ${period}`,
  });
}

/** A reconciliation that failed (no invoice for the month yet, a malformed invoice): its reason. */
export class ReconciliationFailed extends Error {
  override name = 'ReconciliationFailed';
}

export type ReconciliationRun =
  | { status: 'completed'; workflowId: string; result: InvoiceReconciliationResult }
  | { status: 'running'; workflowId: string };

/**
 * Runs (or joins) the reconciliation of a provider's month and waits for it at most the admin
 * wait: past it the admin is told it is still running (running it again joins the same run, and
 * a finished run's report is stored). A failed run throws ReconciliationFailed with its reason.
 */
export async function runInvoiceReconciliation(
  t: WorkflowStarter,
  providerId: string,
  period: string,
  waitMs = adminWaitMs(),
): Promise<ReconciliationRun> {
  const handle = await startInvoiceReconciliation(t, providerId, period);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), waitMs)));
  try {
    const outcome = await Promise.race([handle.result(), deadline]);
    if (outcome === 'deadline') return { status: 'running', workflowId: handle.workflowId };
    return { status: 'completed', workflowId: handle.workflowId, result: outcome };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    // The activity's own failure says why (the cause under the ActivityFailure).
    throw new ReconciliationFailed(
      `reconciliation failed: ${((err.cause?.cause ?? err.cause) as Error | undefined)?.message ?? err.message}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

export function reconciliationScheduleOptions(
  provider: { id: string; name: string; time_zone: string },
  taskQueue: string,
  timing: ReconciliationTiming,
): ScheduleOptions {
  const [hour, minute] = timing.time.split(':').map(Number) as [number, number];
  return {
    scheduleId: invoiceReconciliationScheduleId(provider.id),
    spec: { calendars: [{ dayOfMonth: timing.dayOfMonth, hour, minute }], timezone: provider.time_zone },
    action: {
      type: 'startWorkflow',
      workflowType: invoiceReconciliationWorkflow,
      workflowId: scheduledInvoiceReconciliationWorkflowId(provider.id),
      taskQueue,
      // The month before the run; an invoice that is late is looked for daily for a week.
      args: [{ providerId: provider.id, timeZone: provider.time_zone, waitForInvoiceDays: 7 }],
      typedSearchAttributes: [{ key: CSP_PROVIDER_ID, value: provider.id }],
      staticSummary: `Monthly invoice reconciliation of ${provider.name}`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '7 days', pauseOnFailure: false },
    memo: { provider: provider.name },
    state: { note: `invoice reconciliation of ${provider.name}, day ${timing.dayOfMonth} at ${timing.time}` },
  };
}

/** Create-or-update, like the usage schedule: safe on every worker start and settings change. */
export async function ensureInvoiceReconciliationSchedule(
  t: WorkflowStarter,
  provider: { id: string; name: string; time_zone: string },
  timing: ReconciliationTiming,
): Promise<'created' | 'updated'> {
  const options = reconciliationScheduleOptions(provider, t.taskQueue, timing);
  try {
    await t.temporal.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await t.temporal.schedule
    .getHandle(options.scheduleId)
    .update((previous) => ({ ...previous, spec: options.spec, action: options.action, policies: options.policies }));
  return 'updated';
}

export async function deleteInvoiceReconciliationSchedule(client: Client, providerId: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(invoiceReconciliationScheduleId(providerId)).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** A reconciliation's result, once it has ended (a scheduled run's id comes from the schedule). */
export async function reconciliationResult(client: Client, workflowId: string): Promise<InvoiceReconciliationResult> {
  return client.workflow.getHandle<typeof invoiceReconciliationWorkflow>(workflowId).result();
}
