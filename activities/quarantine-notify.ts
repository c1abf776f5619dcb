import type { Pool } from '../db/pool';
import type { WorkflowStarter } from '../workflows/starter';
import { signalCleanse, signalLinesAdded } from '../workflows/quarantine-group.api';
import { groupsMatching, groupsMediatedBy } from '../db/quarantined-lines';
import { describeTrigger, linesReleasedBy, type AutoCleanseTrigger } from '../core/quarantine-group';
import { forEachConcurrently } from '../core/concurrency';
import { Context } from '@temporalio/activity';

/**
 * Signals in flight at once. One signal-with-start after another took 17.5 s for 186 groups; this
 * many at a time keep the frontend busy without flooding it (5,000 groups: see `npm run bench`).
 */
export const NOTIFY_CONCURRENCY = 32;

/** Heartbeats every 100 signals when called from an activity (a long fan-out must not time out). */
function progressBeat(done: number): void {
  if (done % 100 !== 0) return;
  try {
    Context.current().heartbeat({ signalled: done });
  } catch {
    // not inside an activity
  }
}

interface NotifyDeps extends WorkflowStarter {
  pool: Pool;
}

/**
 * Signal-with-start each group that received lines from `mediatedBy` (a cycle or an action):
 * the signal carries the count only; the lines stay in the database.
 */
export async function notifyGroups(deps: NotifyDeps, providerId: string, mediatedBy: string, except?: string): Promise<number> {
  const groups = (await groupsMediatedBy(deps.pool, providerId, mediatedBy)).filter((g) => g.groupKey !== except);
  return signalGroupsAdded(deps, groups, mediatedBy);
}

/** Signal-with-starts each group with its new line count, NOTIFY_CONCURRENCY at a time. */
export async function signalGroupsAdded(deps: WorkflowStarter, groups: Array<{ groupKey: string; lines: number }>, source: string): Promise<number> {
  let notified = 0;
  await forEachConcurrently(groups, NOTIFY_CONCURRENCY, async (group) => {
    await signalLinesAdded(deps, group.groupKey, { source, count: group.lines });
    progressBeat(++notified);
  });
  return notified;
}

/**
 * Auto-cleanse: when what made lines fail is fixed (a service for their tenant, a rate for their
 * product, a reactivated service), the affected groups are told to cleanse themselves.
 */
export async function autoCleanse(deps: NotifyDeps, providerId: string, trigger: AutoCleanseTrigger): Promise<string[]> {
  const groups = await groupsMatching(deps.pool, providerId, linesReleasedBy(trigger));
  const note = describeTrigger(trigger);
  await forEachConcurrently(groups, NOTIFY_CONCURRENCY, (groupKey) => signalCleanse(deps, groupKey, { by: 'system:auto-cleanse', note }));
  return groups;
}
