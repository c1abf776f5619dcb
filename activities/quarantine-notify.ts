import type { Pool } from '../db/pool';
import type { WorkflowStarter } from '../workflows/starter';
import { signalCleanse, signalLinesAdded } from '../workflows/quarantine-group.api';
import { groupsMatching, groupsMediatedBy } from '../db/quarantined-lines';
import { describeTrigger, linesReleasedBy, type AutoCleanseTrigger } from '../core/quarantine-group';

interface NotifyDeps extends WorkflowStarter {
  pool: Pool;
}

/**
 * Signal-with-start each group that received lines from `mediatedBy` (a cycle or an action):
 * the signal carries the count only; the lines stay in the database.
 */
export async function notifyGroups(deps: NotifyDeps, providerId: string, mediatedBy: string, except?: string): Promise<number> {
  let notified = 0;
  for (const group of await groupsMediatedBy(deps.pool, providerId, mediatedBy)) {
    if (group.groupKey === except) continue;
    await signalLinesAdded(deps, group.groupKey, { source: mediatedBy, count: group.lines });
    notified++;
  }
  return notified;
}

/**
 * Auto-cleanse: when what made lines fail is fixed (a service for their tenant, a rate for their
 * product, a reactivated service), the affected groups are told to cleanse themselves.
 */
export async function autoCleanse(deps: NotifyDeps, providerId: string, trigger: AutoCleanseTrigger): Promise<string[]> {
  const groups = await groupsMatching(deps.pool, providerId, linesReleasedBy(trigger));
  const note = describeTrigger(trigger);
  for (const groupKey of groups) await signalCleanse(deps, groupKey, { by: 'system:auto-cleanse', note });
  return groups;
}
