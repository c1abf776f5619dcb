import { ApplicationFailure } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import type { UsageCycleActivities } from '../workflows/usage-cycle.api';
import type { TenantActivities } from '../workflows/tenant.api';
import { metrics, recordCycleCompleted, recordCycleFailed } from './metrics';
import { cycleTiming, takeQuarantineSnapshot } from '../db/health-readings';

type Observed = Pick<UsageCycleActivities, 'completeCycle' | 'failCycle'> &
  Pick<TenantActivities, 'applyLicenceChange'>;

/**
 * Wraps the activities whose outcomes operations watch, without changing what they do: a
 * completed cycle is counted from its stored summary and its quarantine snapshotted (for the
 * growth alert); a failed cycle and each licence change's outcome are counted.
 */
export function observeActivities<T extends Observed>(deps: Pick<ActivityDeps, 'pool' | 'log'>, acts: T): T {
  const completeCycle: Observed['completeCycle'] = async (input) => {
    const summary = await acts.completeCycle(input);
    await takeQuarantineSnapshot(deps.pool, input.providerId, input.cycleId);
    recordCycleCompleted(summary, await cycleTiming(deps.pool, input.cycleId));
    return summary;
  };
  const failCycle: Observed['failCycle'] = async (input) => {
    await acts.failCycle(input);
    recordCycleFailed(
      input.providerId,
      input.cycleId,
      input.needsAttention,
      (await cycleTiming(deps.pool, input.cycleId))?.seconds ?? null,
    );
  };
  const applyLicenceChange: Observed['applyLicenceChange'] = async (input) => {
    try {
      const result = await acts.applyLicenceChange(input);
      metrics.licenceChanges.inc({ kind: input.change.kind, outcome: 'done' });
      return result;
    } catch (err) {
      // Refused for good (the activity records it FAILED); a retryable fault is not an outcome yet.
      if (err instanceof ApplicationFailure && err.nonRetryable)
        metrics.licenceChanges.inc({ kind: input.change.kind, outcome: 'failed' });
      throw err;
    }
  };
  return { ...acts, completeCycle, failCycle, applyLicenceChange };
}
