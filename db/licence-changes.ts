import type { Pool, PoolClient } from './pool';
import type { LicenceChange } from '../core/licences';
import type { ChangeResult } from '../workflows/types';

type Queryable = Pool | PoolClient;

/** Licence changes sent from here, once per change id: SENT before the carrier call, DONE with its result after. */
export async function completedLicenceChange(db: Queryable, changeId: string): Promise<ChangeResult | null> {
  const res = await db.query<{ status: string; result: ChangeResult | null }>('SELECT status, result FROM licence_change WHERE change_id = $1', [changeId]);
  const row = res.rows[0];
  return row?.status === 'DONE' && row.result ? row.result : null;
}

export async function recordLicenceChangeSent(
  db: Queryable, c: { changeId: string; providerId: string; tenantId: string; change: LicenceChange; by: string },
): Promise<void> {
  await db.query(
    `INSERT INTO licence_change (change_id, provider_id, tenant_id, kind, request, requested_by, status) VALUES ($1, $2, lower($3), $4, $5, $6, 'SENT')
     ON CONFLICT (change_id) DO NOTHING`,
    [c.changeId, c.providerId, c.tenantId, c.change.kind, c.change, c.by],
  );
}

export async function recordLicenceChangeDone(db: Queryable, changeId: string, result: ChangeResult): Promise<void> {
  await db.query(`UPDATE licence_change SET status = 'DONE', result = $2, completed_at = now() WHERE change_id = $1`, [changeId, result]);
}
