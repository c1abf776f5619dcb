import type { Pool, PoolClient } from './pool';
import type { CycleSummary } from '../workflows/usage-cycle.api';
import type { UsageWindow } from '../core/usage-window';

type Queryable = Pool | PoolClient;

/** Usage cycle runs (cycle_run): one row per cycle, its window, resume point, status and summary. */

/** The latest runs, newest first, with the summary's headline figures, for the CLI. */
export interface CycleRunListing {
  id: string;
  provider_id: string;
  status: string;
  window_start: string;
  window_end: string;
  fetched: number;
  billed: number | null;
  quarantined: number | null;
  charge: string | null;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
}

export async function listCycleRuns(
  db: Queryable,
  providerId: string | null,
  limit: number,
): Promise<CycleRunListing[]> {
  const res = await db.query<CycleRunListing>(
    `SELECT id, provider_id, status, to_char(window_start, 'YYYY-MM-DD') AS window_start, to_char(window_end, 'YYYY-MM-DD') AS window_end, fetched,
            (summary ->> 'billed')::int AS billed, (summary ->> 'quarantined')::int AS quarantined, summary ->> 'charge' AS charge, error, started_at, finished_at
       FROM cycle_run WHERE $1::text IS NULL OR provider_id = $1 ORDER BY started_at DESC LIMIT $2`,
    [providerId, limit],
  );
  return res.rows;
}

export async function getCycleRun(db: Queryable, id: string): Promise<Record<string, unknown> | null> {
  const res = await db.query<Record<string, unknown>>('SELECT * FROM cycle_run WHERE id = $1', [id]);
  return res.rows[0] ?? null;
}

/** Opens (or reopens, idempotently) the run row; the window first stored is the cycle's window. */
export async function openCycleRun(
  db: Queryable,
  cycleId: string,
  providerId: string,
  window: UsageWindow,
): Promise<UsageWindow> {
  const row = await db.query<{ window_start: string; window_end: string }>(
    `INSERT INTO cycle_run (id, provider_id, status, window_start, window_end) VALUES ($1, $2, 'RUNNING', $3, $4)
     ON CONFLICT (id) DO UPDATE SET status = 'RUNNING', error = NULL
     RETURNING to_char(window_start, 'YYYY-MM-DD') AS window_start, to_char(window_end, 'YYYY-MM-DD') AS window_end`,
    [cycleId, providerId, window.startDate, window.endDate],
  );
  return { startDate: row.rows[0]!.window_start, endDate: row.rows[0]!.window_end };
}

export interface FetchCursor {
  nextPage: number;
  lastFingerprint: string | null;
  fetchDone: boolean;
  window: UsageWindow;
}

export async function fetchCursor(db: Queryable, cycleId: string): Promise<FetchCursor | null> {
  const run = await db.query<{
    next_page: number;
    last_fingerprint: string | null;
    fetch_done: boolean;
    ws: string;
    we: string;
  }>(
    `SELECT next_page, last_fingerprint, fetch_done, to_char(window_start, 'YYYY-MM-DD') AS ws, to_char(window_end, 'YYYY-MM-DD') AS we
       FROM cycle_run WHERE id = $1`,
    [cycleId],
  );
  const r = run.rows[0];
  return r
    ? {
        nextPage: r.next_page,
        lastFingerprint: r.last_fingerprint,
        fetchDone: r.fetch_done,
        window: { startDate: r.ws, endDate: r.we },
      }
    : null;
}

/**
 * Moves the resume point past a stored page: called in the transaction that stores the page.
 * That transaction commits without waiting for its WAL to reach disk (synchronous_commit off):
 * should PostgreSQL crash before it does, the page and its resume point are lost together and the
 * page is simply fetched again. What a fetch call reports as stored is made durable before it
 * returns (flushStoredPages).
 */
export async function advanceCursor(
  db: Queryable,
  cycleId: string,
  page: { page: number; fingerprint: string; fetched: number; repeats: number },
): Promise<void> {
  await db.query({
    name: 'cycle-run-advance',
    text: `UPDATE cycle_run SET next_page = $2 + 1, last_fingerprint = $3, fetched = fetched + $4, repeats = repeats + $5 WHERE id = $1
           RETURNING set_config('synchronous_commit', 'off', true)`,
    values: [cycleId, page.page, page.fingerprint, page.fetched, page.repeats],
  });
}

/**
 * Waits until every page committed so far is on disk: a transaction that writes (an xid) commits
 * synchronously, and the WAL is flushed in order, so its flush covers every earlier commit.
 */
export async function flushStoredPages(db: Queryable): Promise<void> {
  await db.query('SELECT pg_catalog.txid_current()');
}

export async function markFetchDone(db: Queryable, cycleId: string): Promise<void> {
  await db.query('UPDATE cycle_run SET fetch_done = true WHERE id = $1', [cycleId]);
}

export async function completeCycleRun(db: Queryable, cycleId: string, summary: CycleSummary): Promise<void> {
  await db.query(`UPDATE cycle_run SET status = 'COMPLETED', summary = $2, finished_at = now() WHERE id = $1`, [
    cycleId,
    summary,
  ]);
}

export async function failCycleRun(db: Queryable, cycleId: string, reason: string): Promise<void> {
  await db.query(`UPDATE cycle_run SET status = 'FAILED', error = $2, finished_at = now() WHERE id = $1`, [
    cycleId,
    reason,
  ]);
}

/** The cycle's summary, computed from the database (the truth). */
export async function cycleSummary(db: Pool, cycleId: string): Promise<CycleSummary> {
  const [run, lines, charges] = await Promise.all([
    db.query<{ provider_id: string; ws: string; we: string; fetched: number; repeats: number }>(
      `SELECT provider_id, to_char(window_start, 'YYYY-MM-DD') AS ws, to_char(window_end, 'YYYY-MM-DD') AS we, fetched, repeats FROM cycle_run WHERE id = $1`,
      [cycleId],
    ),
    db.query<{ status: string; reason: string | null; n: number }>(
      // Only these lines are counted here (billed lines are counted by their charges): a partial index holds them by cycle.
      `SELECT status, reason, count(*)::int AS n FROM usage_line WHERE mediated_cycle_id = $1 AND status IN ('QUARANTINED', 'DUPLICATE') GROUP BY status, reason`,
      [cycleId],
    ),
    db.query<{ n: number; cost: string | null; charge: string | null; margin: string | null }>(
      // The totals every statement writing charges recorded for the cycle (migration cycle-summary-without-scans).
      `SELECT coalesce(sum(charges), 0)::int AS n, sum(carrier_cost)::numeric(38,4)::text AS cost, sum(charge)::numeric(38,4)::text AS charge,
              sum(margin)::numeric(38,4)::text AS margin FROM usage_charge_cycle_part WHERE cycle_id = $1`,
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

/** Lines fetched so far by the cycles still running (0 when none is): how far along they are. */
export async function runningCyclesFetched(db: Queryable): Promise<{ running: number; fetched: number }> {
  const res = await db.query<{ running: number; fetched: string | null }>(
    `SELECT count(*)::int AS running, sum(fetched)::text AS fetched FROM cycle_run WHERE status = 'RUNNING'`,
  );
  return { running: res.rows[0]!.running, fetched: Number(res.rows[0]!.fetched ?? 0) };
}
