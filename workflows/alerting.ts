import { proxyActivities } from '@temporalio/workflow';

export interface AlertRunResult {
  providers: number;
  fired: number;
  resolved: number;
  open: number;
  delivered: number;
  deliveryFailures: number;
}

/** The activities this workflow calls (activities/alerting.ts implements them). */
export interface AlertingActivities {
  evaluateAlerts(): Promise<{ providers: number; fired: number; resolved: number; open: number; pending: number[] }>;
  deliverAlert(input: { deliveryId: number }): Promise<{ sent: boolean }>;
}

const evaluation = proxyActivities<Pick<AlertingActivities, 'evaluateAlerts'>>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
});

// A few quick retries here (2 s, 4 s, 8 s); a receiver down for longer is retried by the next
// runs until ALERT_GIVE_UP_HOURS, so one run never waits long on it.
const delivery = proxyActivities<Pick<AlertingActivities, 'deliverAlert'>>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '8 seconds',
    maximumAttempts: 4,
    nonRetryableErrorTypes: ['CHANNEL_GONE'],
  },
});

/** Messages sent per run at most: the rest wait for the next run, keeping history small. */
const MAX_DELIVERIES_PER_RUN = 100;

/**
 * Alerting, a workflow of its own (started by its schedule every few minutes, never by a usage
 * cycle, so a slow or failing receiver never holds up billing): evaluate every rule, record what
 * started and what cleared, then send each queued message. A message that cannot be sent is
 * retried with backoff here and, failing that, by the next run, until it is given up.
 */
export async function alertingWorkflow(): Promise<AlertRunResult> {
  const evaluated = await evaluation.evaluateAlerts();
  const outcomes = await Promise.allSettled(
    evaluated.pending.slice(0, MAX_DELIVERIES_PER_RUN).map((deliveryId) => delivery.deliverAlert({ deliveryId })),
  );
  const delivered = outcomes.filter((o) => o.status === 'fulfilled' && o.value.sent).length;
  const deliveryFailures = outcomes.filter((o) => o.status === 'rejected').length;
  return {
    providers: evaluated.providers,
    fired: evaluated.fired,
    resolved: evaluated.resolved,
    open: evaluated.open,
    delivered,
    deliveryFailures,
  };
}
