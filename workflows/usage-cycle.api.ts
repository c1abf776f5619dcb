import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleHandle, type ScheduleOptions } from '@temporalio/client';
import { usageCycleWorkflow, type UsageCycleInput } from './usage-cycle';
import { CSP_PROVIDER_ID } from './search-attributes';
import type { CycleSummary } from './types';
import type { WorkflowStarter } from './starter';

/** How a provider's usage cycle is started: by its schedule, twice a day, or at once on demand. */

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
    },
    policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: '6 hours', pauseOnFailure: false },
    memo: { provider: provider.name },
    state: { note: `usage cycles of ${provider.name}` },
  };
}

/** Create-or-update: safe to call on every worker start and every settings change. */
export async function ensureUsageSchedule(t: WorkflowStarter, provider: ScheduledProvider): Promise<'created' | 'updated'> {
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

/** A cycle outside the schedule (the demo's first run): its own id, so it never collides with a scheduled one. */
export async function runUsageCycleNow(t: WorkflowStarter, input: UsageCycleInput): Promise<CycleSummary> {
  return t.temporal.workflow.execute(usageCycleWorkflow, {
    taskQueue: t.taskQueue,
    workflowId: `${usageCycleWorkflowId(input.providerId)}:now-${new Date().toISOString()}`,
    args: [input],
    typedSearchAttributes: searchAttributes(input.providerId),
  });
}
