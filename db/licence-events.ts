import type { Pool, PoolClient } from './pool';
import type { LicenceDifference } from '../core/licences';

type Queryable = Pool | PoolClient;

export type LicenceEventSource = 'THIS_SYSTEM' | 'OFFICE365_OR_CARRIER_PORTAL' | 'DISCOVERY';

/** Records one licence event; a retried reconcile or change (same change id) records it once. */
export async function recordLicenceEvent(
  db: Queryable,
  providerId: string,
  tenantId: string,
  source: LicenceEventSource,
  changeId: string,
  e: LicenceDifference,
): Promise<void> {
  await db.query(
    `INSERT INTO licence_event (provider_id, tenant_id, subscription_id, source, kind, old_value, new_value, change_id)
     VALUES ($1, lower($2), $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
    [providerId, tenantId, e.subscriptionId, source, e.kind, e.oldValue, e.newValue, changeId],
  );
}

export interface LicenceEventRow {
  observed_at: Date;
  source: string;
  kind: string;
  subscription_id: string | null;
  product_name: string | null;
  old_value: string | null;
  new_value: string | null;
  by: string | null;
  os_user: string | null;
  principal: string | null;
}

/** The tenant's latest licence events, newest first, with who asked for those made here (from their change); `offset` pages further back. */
export async function recentLicenceEvents(
  db: Queryable,
  providerId: string,
  tenantId: string,
  limit = 20,
  offset = 0,
): Promise<LicenceEventRow[]> {
  const res = await db.query<LicenceEventRow>(
    `SELECT e.observed_at, e.source, e.kind, e.subscription_id, l.product_name, e.old_value, e.new_value,
            c.requested_by AS by, c.os_user, c.principal
       FROM licence_event e
       LEFT JOIN licence_change c ON c.change_id = e.change_id
       LEFT JOIN licence l ON l.provider_id = e.provider_id AND l.subscription_id = e.subscription_id
      WHERE e.provider_id = $1 AND e.tenant_id = lower($2) ORDER BY e.id DESC LIMIT $3 OFFSET $4`,
    [providerId, tenantId, limit, offset],
  );
  return res.rows;
}

export async function countLicenceEvents(db: Queryable, providerId: string, tenantId: string): Promise<number> {
  const res = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM licence_event WHERE provider_id = $1 AND tenant_id = lower($2)',
    [providerId, tenantId],
  );
  return res.rows[0]!.n;
}
