import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import { alertingWorkflow, type AlertRunResult } from './alerting';

export type { AlertingActivities, AlertRunResult } from './alerting';
import type { WorkflowStarter } from './starter';

/** How alerting is started: one schedule for the whole installation, and a run-now helper. */
export const ALERTING_SCHEDULE_ID = 'alerting-schedule';
/** What the Web UI shows for each run (its result has the counts: fired, resolved, delivered). */
const SUMMARY = 'Alerting: evaluate the rules of every provider, send alert and resolved messages (csp alerts recent)';

export const alertingWorkflowId = (suffix?: string) => (suffix ? `alerting:${suffix}` : 'alerting');

/**
 * Every `everyMinutes`, overlap SKIP: a run still sending when the next is due makes that one
 * skip (its work, pending messages included, is picked up by the run after). No catch-up:
 * after an outage one run evaluates the present, which is all that matters.
 */
export function alertingScheduleOptions(taskQueue: string, everyMinutes: number): ScheduleOptions {
  return {
    scheduleId: ALERTING_SCHEDULE_ID,
    spec: { intervals: [{ every: `${everyMinutes} minutes` }] },
    action: {
      type: 'startWorkflow',
      workflowType: alertingWorkflow,
      workflowId: alertingWorkflowId(),
      taskQueue,
      args: [],
      staticSummary: SUMMARY,
      workflowRunTimeout: '30 minutes',
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute', pauseOnFailure: false },
    state: { note: 'evaluates alert rules and delivers alert messages (csp alerts list)' },
  };
}

/** Create-or-update, on every worker start. */
export async function ensureAlertingSchedule(t: WorkflowStarter, everyMinutes: number): Promise<'created' | 'updated'> {
  const options = alertingScheduleOptions(t.taskQueue, everyMinutes);
  try {
    await t.temporal.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await t.temporal.schedule
    .getHandle(ALERTING_SCHEDULE_ID)
    .update((previous) => ({ ...previous, spec: options.spec, action: options.action, policies: options.policies }));
  return 'updated';
}

/** One evaluation now (`csp alerts evaluate`), beside the schedule's; waits for its result. */
export async function runAlertingNow(
  t: WorkflowStarter,
  workflowId = alertingWorkflowId(`now-${new Date().toISOString()}`),
): Promise<AlertRunResult> {
  return t.temporal.workflow.execute(alertingWorkflow, {
    staticSummary: SUMMARY,
    workflowRunTimeout: '30 minutes',
    taskQueue: t.taskQueue,
    workflowId,
    args: [],
  });
}
