import { Context } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import { carrierFor } from './deps';
import { classified } from './failures';
import { inTransaction } from '../db/pool';
import { batchContext, knownVersions, mediateBatch, receivedLines, savePage, type ReceivedLine } from '../db/usage-lines';
import { loadBillingContext } from '../db/mediation-context';
import { advanceCursor, completeCycleRun, cycleSummary, failCycleRun, fetchCursor, markFetchDone, openCycleRun } from '../db/cycle-runs';
import { clearProviderAttention, getProvider, setProviderAttention } from '../db/providers';
import { decideBatch, type Decision, type KnownVersion } from '../core/mediation';
import { notifyGroups } from './quarantine-notify';
import { CarrierError } from '../carrier/errors';
import type { CycleSummary, FetchResult } from '../workflows/types';
import { usageWindow, type UsageWindow } from '../core/usage-window';
import { needsAdminAttention } from '../core/attention';

type DecidedLine = ReceivedLine & { decision: Decision | null };

export function usageActivities(deps: ActivityDeps) {
  return {
    /** Opens (or reopens, idempotently) the cycle's run row and fixes its usage window. */
    async beginCycle(input: { providerId: string; cycleId: string; window?: UsageWindow }): Promise<{ window: UsageWindow }> {
      const provider = await getProvider(deps.pool, input.providerId);
      if (!provider) throw new Error(`provider ${input.providerId} does not exist`);
      const window = input.window ?? usageWindow(new Date(), provider.time_zone, deps.lookbackMonths);
      return { window: await openCycleRun(deps.pool, input.cycleId, input.providerId, window) };
    },

    /**
     * Fetches up to maxPages pages from where the cycle left off, and settles every line of each:
     * the page is decided in memory (core/mediation.ts: revision rule, identify → bucket → rate)
     * and stored in one transaction with its outcomes, its charges and the cycle's resume point.
     * A retry (or a killed worker) resumes exactly after the last stored page: nothing skipped,
     * nothing stored or billed twice. While one page is being stored, the next is fetched, parsed
     * and decided, so the worker and PostgreSQL work at the same time.
     */
    async fetchUsage(input: { providerId: string; cycleId: string; maxPages: number }): Promise<FetchResult> {
      return classified(async () => {
        const cursor = await fetchCursor(deps.pool, input.cycleId);
        if (!cursor) throw new Error(`cycle ${input.cycleId} has no run row: beginCycle must run first`);
        // Lines are mediated page by page as they are stored: their outcomes count towards the cycle's progress.
        const totals = { pages: 0, lines: 0, inserted: 0, exhausted: cursor.fetchDone, mediated: 0, billed: 0, quarantined: 0 };
        // Where the time goes, logged per call: waiting for the carrier (and parsing), deciding,
        // waiting for the previous page's save.
        const ms = { carrier: 0, decide: 0, persist: 0 };
        let mark = Date.now();
        const lap = (stage: keyof typeof ms) => {
          const now = Date.now();
          ms[stage] += now - mark;
          mark = now;
        };
        const report = () => deps.log.info({ cycleId: input.cycleId, ...totals, ms }, 'usage pages fetched');
        if (cursor.fetchDone) return totals;
        const client = await carrierFor(deps, input.providerId);
        // Services, allocations and the rate card, read once per call (a few seconds of pages).
        const billing = await loadBillingContext(deps.pool, input.providerId);
        // At most one page is being saved while the next is decided; its lines count as received
        // before the next page's (a revision across the page boundary is still a revision).
        let saving: Promise<void> | null = null;
        let beingSaved: DecidedLine[] = [];
        const settle = async () => {
          if (saving) await saving;
          saving = null;
          lap('persist');
        };
        try {
          const pages = prefetching(client.usagePages(cursor.window, deps.usagePageSize, cursor.nextPage, cursor.lastFingerprint ?? undefined));
          for await (const page of pages) {
            lap('carrier');
            const lines = receivedLines(page.records, page.texts);
            const known: Map<string, KnownVersion[]> = await knownVersions(deps.pool, input.providerId, lines);
            for (const l of beingSaved) {
              if (l.decision?.status === 'REPEAT' || l.recordKey === '') continue;
              const invalid = l.decision?.status === 'QUARANTINED' && l.decision.reason === 'INVALID_RECORD';
              const list = known.get(l.recordKey) ?? [];
              list.push({ contentHash: l.contentHash, invalid, raw: l.raw });
              known.set(l.recordKey, list);
            }
            const decided = decide(lines, batchContext(billing, known));
            lap('decide');
            await settle();
            saving = inTransaction(deps.pool, async (db) => {
              const saved = await savePage(db, input.providerId, { receivedBy: input.cycleId, mediatedBy: input.cycleId }, decided);
              await advanceCursor(db, input.cycleId, { page: page.page, fingerprint: page.fingerprint, fetched: lines.length, repeats: saved.repeats });
              return saved;
            }).then((saved) => {
              totals.pages++;
              totals.lines += lines.length;
              totals.inserted += saved.inserted;
              totals.mediated += saved.processed;
              totals.billed += saved.billed;
              totals.quarantined += Object.values(saved.quarantined).reduce((a, n) => a + (n ?? 0), 0);
              Context.current().heartbeat({ page: page.page });
            });
            // Surfaces when awaited (settle), never as an unhandled rejection meanwhile.
            saving.catch(() => undefined);
            beingSaved = decided;
            if (totals.pages + 1 >= input.maxPages) {
              await settle();
              report();
              return totals;
            }
          }
          await settle();
        } catch (err) {
          // The page being saved must finish (or fail) before this attempt ends.
          if (saving) await (saving as Promise<void>).catch(() => undefined);
          const code = (err as { code?: string }).code;
          if (needsAdminAttention(code)) await setProviderAttention(deps.pool, input.providerId, (err as Error).message);
          // Pages stored in this attempt are safe (the cursor moved with them). A transient fault
          // after progress ends the call normally, so the next call starts at attempt 1 rather than
          // inheriting an ever-longer backoff; a fault before any progress goes to Temporal's retry.
          if (err instanceof CarrierError && err.retryable && totals.pages > 0) {
            deps.log.warn({ cycleId: input.cycleId, error: err.message, pagesStored: totals.pages }, 'carrier fault after progress; continuing in a new call');
            report();
            return totals;
          }
          throw err;
        }
        await markFetchDone(deps.pool, input.cycleId);
        totals.exhausted = true;
        report();
        return totals;
      });
    },

    /**
     * Mediates the provider's lines still NEW (those a crash left between persisting and mediating,
     * or an earlier failed cycle's) in batches, each its own transaction, heartbeating.
     */
    async mediateUsage(input: { providerId: string; cycleId: string; batchSize: number; maxBatches: number }): Promise<{ processed: number; billed: number; quarantined: number; done: boolean }> {
      const totals = { processed: 0, billed: 0, quarantined: 0, done: false };
      for (let b = 0; b < input.maxBatches; b++) {
        const r = await mediateBatch(deps.pool, { providerId: input.providerId, mediatedBy: input.cycleId, limit: input.batchSize, source: { kind: 'pending' } });
        totals.processed += r.processed;
        totals.billed += r.billed;
        totals.quarantined += Object.values(r.quarantined).reduce((a, n) => a + (n ?? 0), 0);
        Context.current().heartbeat({ batch: b });
        if (r.processed < input.batchSize) {
          totals.done = true;
          break;
        }
      }
      return totals;
    },

    /** Tells each quarantine group that received lines in this cycle (by reference: group and count). */
    async notifyQuarantineGroups(input: { providerId: string; mediatedBy: string }): Promise<{ groups: number }> {
      const groups = await notifyGroups(deps, input.providerId, input.mediatedBy);
      return { groups };
    },

    /** The cycle's summary, computed from the database (the truth), stored on its run row. */
    async completeCycle(input: { providerId: string; cycleId: string }): Promise<CycleSummary> {
      const summary = await cycleSummary(deps.pool, input.cycleId);
      await completeCycleRun(deps.pool, input.cycleId, summary);
      // A cycle that got through proves the credentials work again.
      await clearProviderAttention(deps.pool, input.providerId);
      return summary;
    },

    async failCycle(input: { providerId: string; cycleId: string; reason: string; needsAttention: boolean }): Promise<void> {
      await failCycleRun(deps.pool, input.cycleId, input.reason);
      if (input.needsAttention) await setProviderAttention(deps.pool, input.providerId, input.reason);
    },
  };
}

/**
 * Decides a page. Should deciding fail outright (a defect), the lines are still stored, as
 * received and undecided (NEW), for the sweep: persisting never depends on mediating.
 */
function decide(lines: ReceivedLine[], ctx: Parameters<typeof decideBatch>[1]): DecidedLine[] {
  let decisions: Array<Decision | null>;
  try {
    decisions = decideBatch(lines, ctx);
  } catch {
    decisions = lines.map(() => null);
  }
  // Each line takes its decision in place: no copy of a thousand lines per page.
  const decided = lines as DecidedLine[];
  for (let i = 0; i < decided.length; i++) decided[i]!.decision = decisions[i]!;
  return decided;
}

/** Requests the next page while the current one is being stored: the carrier and the database overlap. */
export async function* prefetching<T>(source: AsyncGenerator<T>): AsyncGenerator<T> {
  let next = source.next();
  for (;;) {
    const current = await next;
    if (current.done) return;
    next = source.next();
    // A failure of the prefetched call surfaces when it is awaited, in order; never unhandled.
    next.catch(() => undefined);
    yield current.value;
  }
}
