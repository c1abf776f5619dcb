import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { CSP_CYCLE_STATUS, CSP_PROVIDER_ID } from './search-attributes';
import {
  progressQuery,
  type CycleProgress,
  type CycleSummary,
  type UsageCycleActivities,
  type UsageCycleInput,
} from './usage-cycle.messages';
import { needsAdminAttention } from '../core/attention';

// Carrier pages: transient faults retry with backoff (429 honours Retry-After); bad credentials,
// 4xx and undocumented shapes fail at once, for an admin to fix.
const carrier = proxyActivities<Pick<UsageCycleActivities, 'fetchUsage'>>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '10 seconds',
  scheduleToCloseTimeout: '3 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// Database work: retried until the database is back (bounded by scheduleToClose).
const database = proxyActivities<Omit<UsageCycleActivities, 'fetchUsage'>>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  scheduleToCloseTimeout: '2 hours',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

const PAGES_PER_ACTIVITY = 25;
const BATCH_SIZE = 2000;
const BATCHES_PER_ACTIVITY = 25;
const HISTORY_EVENTS_BEFORE_CONTINUE_AS_NEW = 1500;

/**
 * A provider's usage cycle, started twice a day by its schedule:
 * fetch every page of the window → persist as received → mediate (identify, bucket, rate) →
 * tell quarantine groups about new lines → summarise. Usage lines never enter history: the
 * activities pass counts, and the database holds the lines and the cycle's resume point.
 */
export async function usageCycleWorkflow(input: UsageCycleInput): Promise<CycleSummary> {
  const cycleId = input.cycleId ?? workflowInfo().workflowId;
  const progress: CycleProgress = input.progress ?? {
    phase: 'starting',
    pagesFetched: 0,
    linesFetched: 0,
    linesNew: 0,
    linesMediated: 0,
    billed: 0,
    quarantined: 0,
    expectedLines: null,
    percent: null,
  };
  const updatePercent = () => {
    if (progress.expectedLines === null) return;
    progress.percent =
      progress.expectedLines === 0
        ? 100
        : Math.min(100, Math.floor((progress.linesMediated / progress.expectedLines) * 100));
  };
  setHandler(progressQuery, () => progress);
  // The Web UI shows the phase and counts beside the static summary.
  const showProgress = () =>
    setCurrentDetails(
      `Phase: ${progress.phase}. Pages fetched ${progress.pagesFetched}, lines ${progress.linesFetched} (${progress.linesNew} new); ` +
        `mediated ${progress.linesMediated}${progress.percent === null ? '' : ` (${progress.percent}%)`}: billed ${progress.billed}, quarantined ${progress.quarantined}.`,
    );
  upsertSearchAttributes([
    { key: CSP_PROVIDER_ID, value: input.providerId },
    { key: CSP_CYCLE_STATUS, value: 'RUNNING' },
  ]);
  const continueWhereLeft = () => continueAsNew<typeof usageCycleWorkflow>({ ...input, cycleId, window, progress });
  const historyFull = () =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_EVENTS_BEFORE_CONTINUE_AS_NEW;
  let window = input.window;

  try {
    window = (await database.beginCycle({ providerId: input.providerId, cycleId, window })).window;

    progress.phase = 'fetching';
    showProgress();
    for (;;) {
      const fetched = await carrier.fetchUsage({ providerId: input.providerId, cycleId, maxPages: PAGES_PER_ACTIVITY });
      progress.pagesFetched += fetched.pages;
      progress.linesFetched += fetched.lines;
      progress.linesNew += fetched.inserted;
      progress.linesMediated += fetched.mediated;
      progress.billed += fetched.billed;
      progress.quarantined += fetched.quarantined;
      showProgress();
      if (fetched.exhausted) {
        progress.expectedLines = progress.linesNew;
        updatePercent();
        break;
      }
      if (historyFull()) return await continueWhereLeft();
    }

    progress.phase = 'mediating';
    for (;;) {
      const mediated = await database.mediateUsage({
        providerId: input.providerId,
        cycleId,
        batchSize: BATCH_SIZE,
        maxBatches: BATCHES_PER_ACTIVITY,
      });
      progress.linesMediated += mediated.processed;
      progress.billed += mediated.billed;
      progress.quarantined += mediated.quarantined;
      updatePercent();
      showProgress();
      if (mediated.done) break;
      if (historyFull()) return await continueWhereLeft();
    }

    progress.phase = 'notifying';
    await database.notifyQuarantineGroups({ providerId: input.providerId, mediatedBy: cycleId });
    const summary = await database.completeCycle({ providerId: input.providerId, cycleId });
    progress.phase = 'completed';
    progress.percent = 100;
    showProgress();
    upsertSearchAttributes([{ key: CSP_CYCLE_STATUS, value: 'COMPLETED' }]);
    return summary;
  } catch (err) {
    if (isCancellation(err)) throw err;
    const cause = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
    const reason = cause?.message ?? (err as Error).message;
    const needsAttention = needsAdminAttention(cause?.type);
    progress.phase = 'failed';
    setCurrentDetails(`Failed: ${reason}`);
    await database.failCycle({ providerId: input.providerId, cycleId, reason, needsAttention });
    upsertSearchAttributes([{ key: CSP_CYCLE_STATUS, value: needsAttention ? 'NEEDS_ATTENTION' : 'FAILED' }]);
    throw ApplicationFailure.create({
      type: cause?.type ?? 'CYCLE_FAILED',
      message: `usage cycle ${cycleId} failed: ${reason}`,
      nonRetryable: true,
    });
  }
}
