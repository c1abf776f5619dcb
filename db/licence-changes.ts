import type { Pool, PoolClient } from './pool';
import type { LicenceChange } from '../core/licences';
import type { ChangeResult } from '../workflows/tenant.api';

type Queryable = Pool | PoolClient;

/** Licence changes sent from here, once per change id: SENT before the carrier call, DONE with its result after. */
export async function completedLicenceChange(db: Queryable, changeId: string): Promise<ChangeResult | null> {
  const row = await licenceChangeStatus(db, changeId);
  return row?.status === 'DONE' && row.result ? row.result : null;
}

export async function licenceChangeStatus(
  db: Queryable,
  changeId: string,
): Promise<{ status: string; result: ChangeResult | null; failure: string | null } | null> {
  const res = await db.query<{ status: string; result: ChangeResult | null; failure: string | null }>(
    'SELECT status, result, failure FROM licence_change WHERE change_id = $1',
    [changeId],
  );
  return res.rows[0] ?? null;
}

export async function recordLicenceChangeSent(
  db: Queryable,
  c: {
    changeId: string;
    providerId: string;
    tenantId: string;
    change: LicenceChange;
    by: string;
    osUser?: string | null;
    principal?: string | null;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO licence_change (change_id, provider_id, tenant_id, kind, request, requested_by, os_user, principal, status)
     VALUES ($1, $2, lower($3), $4, $5, $6, $7, $8, 'SENT') ON CONFLICT (change_id) DO NOTHING`,
    [c.changeId, c.providerId, c.tenantId, c.change.kind, c.change, c.by, c.osUser ?? null, c.principal ?? null],
  );
}

/** A change that will not be sent (again): FAILED with why, so nobody waits for it. */
export async function recordLicenceChangeFailed(db: Queryable, changeId: string, failure: string): Promise<void> {
  await db.query(
    `UPDATE licence_change SET status = 'FAILED', failure = $2, completed_at = now() WHERE change_id = $1 AND status = 'SENT'`,
    [changeId, failure],
  );
}

/** Changes of a tenant that failed, newest first, with their reason. */
export async function failedLicenceChanges(
  db: Queryable,
  providerId: string,
  tenantId: string,
): Promise<Array<{ change_id: string; kind: string; requested_by: string; failure: string | null; created_at: Date }>> {
  const res = await db.query<{
    change_id: string;
    kind: string;
    requested_by: string;
    failure: string | null;
    created_at: Date;
  }>(
    `SELECT change_id, kind, requested_by, failure, created_at FROM licence_change
      WHERE provider_id = $1 AND tenant_id = lower($2) AND status = 'FAILED' ORDER BY created_at DESC LIMIT 20`,
    [providerId, tenantId],
  );
  return res.rows;
}

export async function recordLicenceChangeDone(db: Queryable, changeId: string, result: ChangeResult): Promise<void> {
  await db.query(`UPDATE licence_change SET status = 'DONE', result = $2, completed_at = now() WHERE change_id = $1`, [
    changeId,
    result,
  ]);
}
