import type { Pool, PoolClient } from './pool';
import { inTransaction } from './pool';

type Queryable = Pool | PoolClient;

/**
 * Period close: a closed month's charges never change. The guarantee itself is the trigger on
 * usage_charge (migrations "month-end" and "usage-pipeline-statement-checks"); this module records
 * closes and reopens and their audit.
 */
export interface PeriodRow {
  provider_id: string;
  period: string;
  status: 'OPEN' | 'CLOSED';
  changed_by: string;
  changed_at: Date;
  reason: string | null;
}

export class PeriodStateError extends Error {
  override name = 'PeriodStateError';
}

export async function closePeriod(pool: Pool, providerId: string, period: string, by: string): Promise<PeriodRow> {
  return inTransaction(pool, async (db) => {
    // Waits for transactions writing charges to finish, and keeps new ones out until this commits:
    // no charge slips into the month while it is being closed.
    await db.query('LOCK TABLE usage_charge IN SHARE MODE');
    const current = await periodState(db, providerId, period);
    if (current?.status === 'CLOSED')
      throw new PeriodStateError(
        `${period} of ${providerId} is already closed (by ${current.changed_by} at ${current.changed_at.toISOString()})`,
      );
    const row = await db.query<PeriodRow>(
      `INSERT INTO billing_period (provider_id, period, status, changed_by, reason) VALUES ($1, $2, 'CLOSED', $3, NULL)
       ON CONFLICT (provider_id, period) DO UPDATE SET status = 'CLOSED', changed_by = $3, changed_at = now(), reason = NULL
       RETURNING *`,
      [providerId, period, by],
    );
    await db.query(
      `INSERT INTO billing_period_event (provider_id, period, action, actor) VALUES ($1, $2, 'close', $3)`,
      [providerId, period, by],
    );
    return row.rows[0]!;
  });
}

export async function reopenPeriod(
  pool: Pool,
  providerId: string,
  period: string,
  by: string,
  reason: string,
): Promise<PeriodRow> {
  if (reason.trim() === '') throw new PeriodStateError('reopening a closed month needs a reason');
  return inTransaction(pool, async (db) => {
    const current = await periodState(db, providerId, period, true);
    if (current?.status !== 'CLOSED') throw new PeriodStateError(`${period} of ${providerId} is not closed`);
    const row = await db.query<PeriodRow>(
      `UPDATE billing_period SET status = 'OPEN', changed_by = $3, changed_at = now(), reason = $4 WHERE provider_id = $1 AND period = $2 RETURNING *`,
      [providerId, period, by, reason],
    );
    await db.query(
      `INSERT INTO billing_period_event (provider_id, period, action, actor, reason) VALUES ($1, $2, 'reopen', $3, $4)`,
      [providerId, period, by, reason],
    );
    return row.rows[0]!;
  });
}

export async function periodState(
  db: Queryable,
  providerId: string,
  period: string,
  forUpdate = false,
): Promise<PeriodRow | null> {
  const res = await db.query<PeriodRow>(
    `SELECT * FROM billing_period WHERE provider_id = $1 AND period = $2 ${forUpdate ? 'FOR UPDATE' : ''}`,
    [providerId, period],
  );
  return res.rows[0] ?? null;
}

export async function isPeriodClosed(db: Queryable, providerId: string, period: string): Promise<boolean> {
  return (await periodState(db, providerId, period))?.status === 'CLOSED';
}

export interface PeriodEvent {
  period: string;
  action: 'close' | 'reopen';
  actor: string;
  reason: string | null;
  created_at: Date;
}

export async function listPeriods(
  db: Queryable,
  providerId: string,
): Promise<Array<PeriodRow & { events: PeriodEvent[] }>> {
  const periods = await db.query<PeriodRow>('SELECT * FROM billing_period WHERE provider_id = $1 ORDER BY period', [
    providerId,
  ]);
  const events = await db.query<PeriodEvent>(
    'SELECT period, action, actor, reason, created_at FROM billing_period_event WHERE provider_id = $1 ORDER BY id',
    [providerId],
  );
  return periods.rows.map((p) => ({ ...p, events: events.rows.filter((e) => e.period === p.period) }));
}
