import type { Pool, PoolClient } from './pool';

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

export async function listCycleRuns(db: Queryable, providerId: string | null, limit: number): Promise<CycleRunListing[]> {
  const res = await db.query<CycleRunListing>(
    `SELECT id, provider_id, status, to_char(window_start, 'YYYY-MM-DD') AS window_start, to_char(window_end, 'YYYY-MM-DD') AS window_end, fetched,
            (summary ->> 'billed')::int AS billed, (summary ->> 'quarantined')::int AS quarantined, summary ->> 'charge' AS charge, error, started_at, finished_at
       FROM cycle_run WHERE $1::text IS NULL OR provider_id = $1 ORDER BY started_at DESC LIMIT $2`,
    [providerId, limit],
  );
  return res.rows;
}

export async function getCycleRun(db: Queryable, id: string): Promise<Record<string, unknown> | null> {
  const res = await db.query('SELECT * FROM cycle_run WHERE id = $1', [id]);
  return res.rows[0] ?? null;
}
