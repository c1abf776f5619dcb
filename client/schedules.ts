import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { usageCycleWorkflow } from '../workflows/usage-cycle';
import { usageCycleWorkflowId, usageScheduleId } from '../workflows/ids';
import { CSP_PROVIDER_ID } from '../workflows/search-attributes';

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
      typedSearchAttributes: [{ key: CSP_PROVIDER_ID, value: provider.id }],
    },
    policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: '6 hours', pauseOnFailure: false },
    memo: { provider: provider.name },
    state: { note: `usage cycles of ${provider.name}` },
  };
}

/** Create-or-update: safe to call on every worker start and every settings change. */
export async function ensureUsageSchedule(client: Client, provider: ScheduledProvider, taskQueue: string): Promise<'created' | 'updated'> {
  const options = scheduleOptions(provider, taskQueue);
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(options.scheduleId).update((previous) => ({
    ...previous,
    spec: options.spec,
    action: options.action,
    policies: options.policies,
  }));
  return 'updated';
}

export async function deleteUsageSchedule(client: Client, providerId: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(usageScheduleId(providerId)).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}
