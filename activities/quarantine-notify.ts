import type { Pool } from '../db/pool';
import type { WorkflowStarter } from '../workflows/starter';
import { signalCleanse, signalLinesAdded } from '../workflows/quarantine-group.api';
import { groupsMatching, groupsMediatedBy } from '../db/quarantined-lines';
import { describeTrigger, linesReleasedBy, type AutoCleanseTrigger } from '../core/quarantine-group';
import { forEachConcurrently } from '../core/concurrency';
import { groupSummariesWithDetails } from './group-summary';
import { Context } from '@temporalio/activity';
import type { GroupSummary } from '../workflows/types';

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

/** Group summaries read per statement while signalling (read a chunk ahead of the signals). */
export const SUMMARY_CHUNK = 500;

/**
 * Signal-with-start each group that received lines from `mediatedBy` (a cycle or an action):
 * the signal carries the count and the group's summary, read for many groups in one statement,
 * so a group started by it needs no activity of its own to show what it holds; the lines stay in
 * the database.
 */
export async function notifyGroups(deps: NotifyDeps, providerId: string, mediatedBy: string, except?: string): Promise<number> {
  const groups = (await groupsMediatedBy(deps.pool, providerId, mediatedBy)).filter((g) => g.groupKey !== except);
  let notified = 0;
  const read = (from: number) => {
    const p = groupSummariesWithDetails(deps.pool, providerId, groups.slice(from, from + SUMMARY_CHUNK).map((g) => g.groupKey));
    p.catch(() => undefined); // awaited below; a failure while signals are in flight is not unhandled
    return p;
  };
  let next = read(0);
  for (let i = 0; i < groups.length; i += SUMMARY_CHUNK) {
    const summaries = await next;
    next = read(i + SUMMARY_CHUNK);
    const chunk = groups.slice(i, i + SUMMARY_CHUNK).map((g) => ({ ...g, summary: summaries.get(g.groupKey) }));
    notified += await signalGroupsAdded(deps, chunk, mediatedBy, notified);
  }
  await next;
  return notified;
}

/** Signal-with-starts each group with its new line count (and summary, if given), NOTIFY_CONCURRENCY at a time. */
export async function signalGroupsAdded(
  deps: WorkflowStarter,
  groups: Array<{ groupKey: string; lines: number; summary?: GroupSummary }>,
  source: string,
  alreadyNotified = 0,
): Promise<number> {
  let notified = 0;
  await forEachConcurrently(groups, NOTIFY_CONCURRENCY, async (group) => {
    await signalLinesAdded(deps, group.groupKey, { source, count: group.lines, ...(group.summary ? { summary: group.summary } : {}) });
    notified++;
    progressBeat(alreadyNotified + notified);
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
