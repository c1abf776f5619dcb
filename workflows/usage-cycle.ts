import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  defineQuery,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { CSP_CYCLE_STATUS, CSP_PROVIDER_ID } from './search-attributes';
import type { CycleSummary, FetchResult, UsageWindow } from './types';
import { needsAdminAttention } from '../core/attention';

export interface UsageCycleInput {
  providerId: string;
  /** Defaults to this workflow's id; kept across continue-as-new. */
  cycleId?: string;
  /** Defaults to the configured look-back in the provider's time zone. */
  window?: UsageWindow;
  progress?: CycleProgress;
}

export interface CycleProgress {
  phase: 'starting' | 'fetching' | 'mediating' | 'notifying' | 'completed' | 'failed';
  pagesFetched: number;
  linesFetched: number;
  /** Lines stored new (exact repeats of known lines are not mediated again). */
  linesNew?: number;
  /** Lines mediated so far: page by page during the fetch, then the sweep. */
  linesMediated: number;
  billed: number;
  quarantined: number;
  /**
   * The carrier does not say how many lines a window holds, so the total is known once the last
   * page is in: until then null (pages so far is what is known), then the new lines to mediate.
   */
  expectedLines?: number | null;
  /** linesMediated of expectedLines, 0–100; null while the total is unknown. */
  percent?: number | null;
}

export const progressQuery = defineQuery<CycleProgress>('progress');

/** The activities this workflow calls (activities/usage.ts implements them); each passes counts, never lines. */
export interface UsageCycleActivities {
  beginCycle(input: { providerId: string; cycleId: string; window?: UsageWindow }): Promise<{ window: UsageWindow }>;
  fetchUsage(input: { providerId: string; cycleId: string; maxPages: number }): Promise<FetchResult>;
  mediateUsage(input: {
    providerId: string;
    cycleId: string;
    batchSize: number;
    maxBatches: number;
  }): Promise<{ processed: number; billed: number; quarantined: number; done: boolean }>;
  notifyQuarantineGroups(input: { providerId: string; mediatedBy: string }): Promise<{ groups: number }>;
  completeCycle(input: { providerId: string; cycleId: string }): Promise<CycleSummary>;
  failCycle(input: { providerId: string; cycleId: string; reason: string; needsAttention: boolean }): Promise<void>;
}

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
const HISTORY_LIMIT = 1500;

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
    if (progress.expectedLines === null || progress.expectedLines === undefined) return;
    progress.percent =
      progress.expectedLines === 0
        ? 100
        : Math.min(100, Math.floor((progress.linesMediated / progress.expectedLines) * 100));
  };
  setHandler(progressQuery, () => progress);
  // The Web UI shows the phase and counts beside the static summary.
  const showProgress = () =>
    setCurrentDetails(
      `Phase: ${progress.phase}. Pages fetched ${progress.pagesFetched}, lines ${progress.linesFetched} (${progress.linesNew ?? 0} new); ` +
        `mediated ${progress.linesMediated}${progress.percent === null || progress.percent === undefined ? '' : ` (${progress.percent}%)`}: billed ${progress.billed}, quarantined ${progress.quarantined}.`,
    );
  upsertSearchAttributes([
    { key: CSP_PROVIDER_ID, value: input.providerId },
    { key: CSP_CYCLE_STATUS, value: 'RUNNING' },
  ]);
  const carryOn = () => continueAsNew<typeof usageCycleWorkflow>({ ...input, cycleId, window, progress });
  const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_LIMIT;
  let window = input.window;

  try {
    window = (await database.beginCycle({ providerId: input.providerId, cycleId, window })).window;

    progress.phase = 'fetching';
    showProgress();
    for (;;) {
      const fetched = await carrier.fetchUsage({ providerId: input.providerId, cycleId, maxPages: PAGES_PER_ACTIVITY });
      progress.pagesFetched += fetched.pages;
      progress.linesFetched += fetched.lines;
      progress.linesNew = (progress.linesNew ?? 0) + fetched.inserted;
      progress.linesMediated += fetched.mediated ?? 0;
      progress.billed += fetched.billed ?? 0;
      progress.quarantined += fetched.quarantined ?? 0;
      showProgress();
      if (fetched.exhausted) {
        progress.expectedLines = progress.linesNew;
        updatePercent();
        break;
      }
      if (historyFull()) return await carryOn();
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
      if (historyFull()) return await carryOn();
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
