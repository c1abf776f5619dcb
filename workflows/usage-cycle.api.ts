import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleHandle,
  type ScheduleOptions,
  type WorkflowHandle,
} from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { usageCycleWorkflow } from './usage-cycle';
import { progressQuery, type CycleProgress, type CycleSummary, type UsageCycleInput } from './usage-cycle.messages';
import { CSP_PROVIDER_ID } from './search-attributes';
import type { WorkflowStarter } from './starter';

/**
 * The usage cycle workflow's contract: its messages and types, its ids, and how a provider's cycle
 * is started (by its schedule, twice a day, or at once on demand) and watched.
 */
export * from './usage-cycle.messages';

/** Stable ids: admins type these, so they read as what they are. */
export const usageScheduleId = (providerId: string) => `usage-cycle-schedule:${providerId}`;
export const usageCycleWorkflowId = (providerId: string) => `usage-cycle:${providerId}`;

const searchAttributes = (providerId: string) => [{ key: CSP_PROVIDER_ID, value: providerId }];

export interface ScheduledProvider {
  id: string;
  name: string;
  time_zone: string;
  cycle_times: string[];
}

/**
 * One schedule per provider, stable id, twice a day in the provider's time zone by default.
 * Overlap BUFFER_ONE: a cycle still running when the next is due is followed by exactly one more,
 * never run alongside it. Catch-up 6 hours: a server outage over 06:00 still polls that morning,
 * but a week-long outage does not replay every missed cycle (one poll covers the whole window).
 */
export function scheduleOptions(provider: ScheduledProvider, taskQueue: string): ScheduleOptions {
  return {
    scheduleId: usageScheduleId(provider.id),
    spec: {
      calendars: provider.cycle_times.map((t) => {
        const [hour, minute] = t.split(':').map(Number) as [number, number];
        return { hour, minute };
      }),
      timezone: provider.time_zone,
    },
    action: {
      type: 'startWorkflow',
      workflowType: usageCycleWorkflow,
      workflowId: usageCycleWorkflowId(provider.id),
      taskQueue,
      args: [{ providerId: provider.id }],
      typedSearchAttributes: searchAttributes(provider.id),
      ...cycleMetadata(provider.id, provider.name),
    },
    policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: '6 hours', pauseOnFailure: false },
    memo: { provider: provider.name },
    state: { note: `usage cycles of ${provider.name}` },
  };
}

/** Create-or-update: safe to call on every worker start and every settings change. */
export async function ensureUsageSchedule(
  t: WorkflowStarter,
  provider: ScheduledProvider,
): Promise<'created' | 'updated'> {
  const options = scheduleOptions(provider, t.taskQueue);
  try {
    await t.temporal.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await t.temporal.schedule.getHandle(options.scheduleId).update((previous) => ({
    ...previous,
    spec: options.spec,
    action: options.action,
    policies: options.policies,
  }));
  return 'updated';
}

export function usageScheduleHandle(client: Client, providerId: string): ScheduleHandle {
  return client.schedule.getHandle(usageScheduleId(providerId));
}

export async function deleteUsageSchedule(client: Client, providerId: string): Promise<boolean> {
  try {
    await usageScheduleHandle(client, providerId).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/**
 * A cycle outside the schedule (the demo's first run, `cycle run`, `schedule trigger --from/--to`):
 * its own id, so it never collides with a scheduled one; an explicit window when given.
 */
export async function startUsageCycleNow(
  t: WorkflowStarter,
  input: UsageCycleInput,
  workflowId = `${usageCycleWorkflowId(input.providerId)}:now-${new Date().toISOString()}`,
  /** A bound on the whole cycle (continue-as-new included): for tests that must fail rather than wait. */
  executionTimeout?: Duration,
): Promise<WorkflowHandle<typeof usageCycleWorkflow>> {
  return t.temporal.workflow.start(usageCycleWorkflow, {
    taskQueue: t.taskQueue,
    workflowId,
    workflowExecutionTimeout: executionTimeout,
    args: [input],
    typedSearchAttributes: searchAttributes(input.providerId),
    ...cycleMetadata(input.providerId),
  });
}

/** Temporal user metadata for the Web UI: what a cycle is; the workflow reports its phase and progress as current details. */
function cycleMetadata(providerId: string, providerName?: string) {
  return {
    staticSummary: `Usage cycle of ${providerName ?? providerId}${providerName ? ` (${providerId})` : ''}`,
    staticDetails:
      'Fetches the usage window page by page from the carrier, persists and mediates each page (identify, bucket, rate), ' +
      'tells quarantine groups about new lines and stores the summary. Query `progress` for the counts.',
  };
}

export async function runUsageCycleNow(
  t: WorkflowStarter,
  input: UsageCycleInput,
  workflowId?: string,
  executionTimeout?: Duration,
): Promise<CycleSummary> {
  return (await startUsageCycleNow(t, input, workflowId, executionTimeout)).result();
}

/** A running cycle's progress (its `progress` query). */
export async function cycleProgress(client: Client, cycleId: string): Promise<CycleProgress> {
  return client.workflow.getHandle<typeof usageCycleWorkflow>(cycleId).query(progressQuery);
}

/** An activity the cycle is waiting on, with why: its attempt and the failure that made it retry. */
export interface CycleWaitingOn {
  activity: string;
  attempt: number;
  lastFailure: string | null;
  nextAttemptAt: string | null;
}

export interface CycleProgressView {
  status: string;
  progress: CycleProgress | null;
  /** Activities being retried (attempt > 1 or a recorded failure): why a RUNNING cycle does not move. */
  waitingOn: CycleWaitingOn[];
}

/**
 * A cycle's progress as the workflow reports it, plus what it is waiting on: Temporal's pending
 * activities with their attempt and last failure (the same the Web UI shows), so a cycle stuck on
 * a retried activity says why instead of only RUNNING.
 */
export async function describeCycleProgress(client: Client, cycleId: string): Promise<CycleProgressView> {
  const handle = client.workflow.getHandle(cycleId);
  const description = await handle.describe();
  const status = description.status.name;
  const progress = status === 'RUNNING' ? await handle.query(progressQuery).catch(() => null) : null;
  const waitingOn = (description.raw.pendingActivities ?? [])
    .filter((a) => (a.attempt ?? 1) > 1 || a.lastFailure)
    .map((a) => ({
      activity: a.activityType?.name ?? 'activity',
      attempt: a.attempt ?? 1,
      lastFailure: rootFailureMessage(a.lastFailure),
      nextAttemptAt: a.nextAttemptScheduleTime?.seconds
        ? new Date(Number(a.nextAttemptScheduleTime.seconds) * 1000).toISOString()
        : null,
    }));
  return { status, progress, waitingOn };
}

interface RawFailure {
  message?: string | null;
  cause?: RawFailure | null;
  applicationFailureInfo?: { type?: string | null } | null;
}

function rootFailureMessage(f: RawFailure | null | undefined): string | null {
  if (!f) return null;
  while (f.cause) f = f.cause;
  const type = f.applicationFailureInfo?.type;
  return type ? `${type}: ${f.message ?? ''}` : (f.message ?? null);
}
