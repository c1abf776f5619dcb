import { Context } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import { carrierFor } from './deps';
import { classified } from './failures';
import { inTransaction } from '../db/pool';
import { insertUsagePage, mediateBatch, mediateNewLines, type MediationResult } from '../db/usage-lines';
import type { FetchResult } from '../workflows/types';
import { getProvider, setProviderAttention } from '../db/providers';
import { notifyGroups } from './quarantine-notify';
import { CarrierError } from '../carrier/errors';
import type { CycleSummary } from '../workflows/types';
import { usageWindow, type UsageWindow } from '../core/usage-window';
import { needsAdminAttention } from '../core/attention';

export function usageActivities(deps: ActivityDeps) {
  return {
    /** Opens (or reopens, idempotently) the cycle's run row and fixes its usage window. */
    async beginCycle(input: { providerId: string; cycleId: string; window?: UsageWindow }): Promise<{ window: UsageWindow }> {
      const provider = await getProvider(deps.pool, input.providerId);
      if (!provider) throw new Error(`provider ${input.providerId} does not exist`);
      const window = input.window ?? usageWindow(new Date(), provider.time_zone, deps.lookbackMonths);
      const row = await deps.pool.query<{ window_start: string; window_end: string }>(
        `INSERT INTO cycle_run (id, provider_id, status, window_start, window_end) VALUES ($1, $2, 'RUNNING', $3, $4)
         ON CONFLICT (id) DO UPDATE SET status = 'RUNNING', error = NULL
         RETURNING to_char(window_start, 'YYYY-MM-DD') AS window_start, to_char(window_end, 'YYYY-MM-DD') AS window_end`,
        [input.cycleId, input.providerId, window.startDate, window.endDate],
      );
      return { window: { startDate: row.rows[0]!.window_start, endDate: row.rows[0]!.window_end } };
    },

    /**
     * Fetches up to maxPages pages from where the cycle left off. Each page is persisted together
     * with the cycle's resume point in one transaction, so a retry (or a killed worker) resumes
     * exactly after the last stored page: nothing skipped, nothing stored twice.
     */
    async fetchUsage(input: { providerId: string; cycleId: string; maxPages: number }): Promise<FetchResult> {
      return classified(async () => {
        const run = await deps.pool.query<{ next_page: number; last_fingerprint: string | null; fetch_done: boolean; ws: string; we: string }>(
          `SELECT next_page, last_fingerprint, fetch_done, to_char(window_start, 'YYYY-MM-DD') AS ws, to_char(window_end, 'YYYY-MM-DD') AS we
             FROM cycle_run WHERE id = $1`,
          [input.cycleId],
        );
        const state = run.rows[0];
        if (!state) throw new Error(`cycle ${input.cycleId} has no run row: beginCycle must run first`);
        // Lines are mediated page by page during the fetch: their outcomes count towards the cycle's progress.
        const totals = { pages: 0, lines: 0, inserted: 0, exhausted: state.fetch_done, mediated: 0, billed: 0, quarantined: 0 };
        const count = (r: MediationResult) => {
          totals.mediated += r.processed;
          totals.billed += r.billed;
          totals.quarantined += Object.values(r.quarantined).reduce((a, n) => a + (n ?? 0), 0);
        };
        // Where the time goes, logged per call: waiting for the carrier, persisting, mediating.
        const ms = { carrier: 0, persist: 0, mediate: 0 };
        let mark = Date.now();
        const lap = (stage: keyof typeof ms) => {
          const now = Date.now();
          ms[stage] += now - mark;
          mark = now;
        };
        const report = () => deps.log.info({ cycleId: input.cycleId, ...totals, ms }, 'usage pages fetched');
        if (state.fetch_done) return totals;
        const client = await carrierFor(deps, input.providerId);
        // One page's mediation runs while the next page is persisted (two connections, so
        // PostgreSQL works on both cores). At most one is in flight: pages are mediated in order.
        let mediating: Promise<unknown> = Promise.resolve();
        const settle = async () => {
          await mediating;
          lap('mediate');
        };
        try {
          const pages = prefetching(client.usagePages({ startDate: state.ws, endDate: state.we }, deps.usagePageSize, state.next_page, state.last_fingerprint ?? undefined));
          for await (const page of pages) {
            lap('carrier');
            // Persist first (with the resume point), then mediate the new lines from memory.
            const stored = await inTransaction(deps.pool, async (db) => {
              const r = await insertUsagePage(db, input.providerId, input.cycleId, page.records);
              await db.query(
                `UPDATE cycle_run SET next_page = $2 + 1, last_fingerprint = $3, fetched = fetched + $4, repeats = repeats + $5 WHERE id = $1`,
                [input.cycleId, page.page, page.fingerprint, page.records.length, r.repeats],
              );
              return r;
            });
            lap('persist');
            await settle();
            if (stored.newLines.length > 0) mediating = mediateNewLines(deps.pool, input.providerId, input.cycleId, stored.newLines).then(count);
            totals.pages++;
            totals.lines += page.records.length;
            totals.inserted += stored.inserted;
            Context.current().heartbeat({ page: page.page });
            if (totals.pages >= input.maxPages) {
              await settle();
              report();
              return totals;
            }
          }
          await settle();
        } catch (err) {
          // The page being mediated must finish (or fail) before this attempt ends; a line it
          // leaves NEW is swept by mediateUsage.
          await mediating.catch(() => undefined);
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
        await deps.pool.query('UPDATE cycle_run SET fetch_done = true WHERE id = $1', [input.cycleId]);
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
      const summary = await cycleSummary(deps, input.cycleId);
      await deps.pool.query(`UPDATE cycle_run SET status = 'COMPLETED', summary = $2, finished_at = now() WHERE id = $1`, [input.cycleId, summary]);
      // A cycle that got through proves the credentials work again.
      await deps.pool.query(`UPDATE provider SET status = 'ACTIVE', attention_reason = NULL WHERE id = $1 AND status = 'NEEDS_ATTENTION'`, [input.providerId]);
      return summary;
    },

    async failCycle(input: { providerId: string; cycleId: string; reason: string; needsAttention: boolean }): Promise<void> {
      await deps.pool.query(`UPDATE cycle_run SET status = 'FAILED', error = $2, finished_at = now() WHERE id = $1`, [input.cycleId, input.reason]);
      if (input.needsAttention) await setProviderAttention(deps.pool, input.providerId, input.reason);
    },
  };
}

export async function cycleSummary(deps: Pick<ActivityDeps, 'pool'>, cycleId: string): Promise<CycleSummary> {
  const [run, lines, charges] = await Promise.all([
    deps.pool.query<{ provider_id: string; ws: string; we: string; fetched: number; repeats: number }>(
      `SELECT provider_id, to_char(window_start, 'YYYY-MM-DD') AS ws, to_char(window_end, 'YYYY-MM-DD') AS we, fetched, repeats FROM cycle_run WHERE id = $1`,
      [cycleId],
    ),
    deps.pool.query<{ status: string; reason: string | null; n: number }>(
      `SELECT status, reason, count(*)::int AS n FROM usage_line WHERE mediated_cycle_id = $1 GROUP BY status, reason`,
      [cycleId],
    ),
    deps.pool.query<{ n: number; cost: string | null; charge: string | null; margin: string | null }>(
      `SELECT count(*)::int AS n, sum(carrier_cost)::text AS cost, sum(charge)::text AS charge, sum(margin)::text AS margin FROM usage_charge WHERE cycle_id = $1`,
      [cycleId],
    ),
  ]);
  const r = run.rows[0];
  if (!r) throw new Error(`cycle ${cycleId} not found`);
  const quarantinedByReason: Record<string, number> = {};
  let quarantined = 0;
  let repeatsMarked = 0;
  for (const row of lines.rows) {
    if (row.status === 'QUARANTINED' && row.reason) {
      quarantinedByReason[row.reason] = row.n;
      quarantined += row.n;
    }
    if (row.status === 'DUPLICATE') repeatsMarked += row.n;
  }
  const c = charges.rows[0]!;
  return {
    cycleId,
    providerId: r.provider_id,
    window: { startDate: r.ws, endDate: r.we },
    fetched: Number(r.fetched),
    billed: c.n,
    quarantined,
    quarantinedByReason,
    duplicatesSkipped: Number(r.repeats) + repeatsMarked,
    cost: c.cost ?? '0.0000',
    charge: c.charge ?? '0.0000',
    margin: c.margin ?? '0.0000',
  };
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
