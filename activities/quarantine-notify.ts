import type { Pool } from '../db/pool';
import type { WorkflowStarter } from '../workflows/starter';
import { signalCleanse, signalLinesAdded } from '../workflows/quarantine-group.api';
import { groupsMatching, groupsMediatedBy, groupsOfServedTenants } from '../db/quarantined-lines';
import { describeTrigger, linesReleasedBy, type AutoCleanseTrigger } from '../core/quarantine-group';
import { forEachConcurrently } from '../lib/concurrency';
import { groupSummariesWithDetails } from './group-summary';
import { Context } from '@temporalio/activity';
import type { GroupSummary } from '../workflows/quarantine-group.api';

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

/** Group summaries read per statement while signalling (the next chunk read ahead of the signals). */
export const SUMMARY_CHUNK = 500;

/**
 * Signal-with-start each group that received lines from `mediatedBy` (a cycle or an action):
 * the signal carries the count and the group's summary, read for many groups in one statement,
 * so a group started by it needs no activity of its own to show what it holds; the lines stay in
 * the database.
 */
export async function notifyGroups(
  deps: NotifyDeps,
  providerId: string,
  mediatedBy: string,
  except?: string,
): Promise<number> {
  const groups = (await groupsMediatedBy(deps.pool, providerId, mediatedBy)).filter((g) => g.groupKey !== except);
  const chunks: Array<Promise<Map<string, GroupSummary>>> = [];
  const chunk = (c: number) => {
    if (!chunks[c]) {
      chunks[c] = groupSummariesWithDetails(
        deps.pool,
        providerId,
        groups.slice(c * SUMMARY_CHUNK, (c + 1) * SUMMARY_CHUNK).map((g) => g.groupKey),
      );
      chunks[c].catch(() => undefined); // awaited by the signals that need it; a failure there stops the fan-out
    }
    return chunks[c];
  };
  return signalGroupsAdded(deps, groups, mediatedBy, async (index, groupKey) => {
    const c = Math.floor(index / SUMMARY_CHUNK);
    // Read ahead: its failure is seen by the signals that await it.
    if ((c + 1) * SUMMARY_CHUNK < groups.length) void chunk(c + 1);
    return (await chunk(c)).get(groupKey);
  });
}

/**
 * Signal-with-starts each group with its new line count (and its summary, when `summaryOf` gives
 * one), NOTIFY_CONCURRENCY at a time, in one stream (no pause between chunks of summaries).
 */
export async function signalGroupsAdded(
  deps: WorkflowStarter,
  groups: Array<{ groupKey: string; lines: number }>,
  source: string,
  summaryOf?: (index: number, groupKey: string) => Promise<GroupSummary | undefined>,
): Promise<number> {
  let notified = 0;
  await forEachConcurrently(groups, NOTIFY_CONCURRENCY, async (group, index) => {
    const summary = await summaryOf?.(index, group.groupKey);
    await signalLinesAdded(deps, group.groupKey, { source, count: group.lines, ...(summary ? { summary } : {}) });
    progressBeat(++notified);
  });
  return notified;
}

/**
 * Auto-cleanse: when what made lines fail is fixed (a service for their tenant, a rate for their
 * product, a reactivated service), the affected groups are told to cleanse themselves.
 */
export async function autoCleanse(
  deps: NotifyDeps,
  providerId: string,
  trigger: AutoCleanseTrigger,
): Promise<string[]> {
  return cleanseGroups(
    deps,
    await groupsMatching(deps.pool, providerId, linesReleasedBy(trigger)),
    describeTrigger(trigger),
  );
}

/**
 * The sweep after a discovery: groups of unknown tenants that have a service by now are told to
 * cleanse. Storing tenants tells them as it creates their services, but a retry after that commit
 * (a signal failed, the worker was lost) finds the tenants stored and tells nobody.
 */
export async function cleanseServedTenants(deps: NotifyDeps, providerId: string): Promise<string[]> {
  return cleanseGroups(
    deps,
    await groupsOfServedTenants(deps.pool, providerId),
    "the tenant has a service (found when the provider's tenants were discovered)",
  );
}

/** Tells each group to cleanse itself, as the system, NOTIFY_CONCURRENCY at a time. */
async function cleanseGroups(deps: NotifyDeps, groups: string[], note: string): Promise<string[]> {
  await forEachConcurrently(groups, NOTIFY_CONCURRENCY, (groupKey) =>
    signalCleanse(deps, groupKey, { by: 'system:auto-cleanse', note }),
  );
  return groups;
}
