import type { Pool, PoolClient } from './pool';
import type { LicenceDifference } from '../core/licences';

type Queryable = Pool | PoolClient;

export type LicenceEventSource = 'THIS_SYSTEM' | 'OFFICE365_OR_CARRIER_PORTAL' | 'DISCOVERY';

/** Records one licence event; a retried reconcile or change (same change id) records it once. */
export async function recordLicenceEvent(db: Queryable, providerId: string, tenantId: string, source: LicenceEventSource, changeId: string, e: LicenceDifference): Promise<void> {
  await db.query(
    `INSERT INTO licence_event (provider_id, tenant_id, subscription_id, source, kind, old_value, new_value, change_id)
     VALUES ($1, lower($2), $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
    [providerId, tenantId, e.subscriptionId, source, e.kind, e.oldValue, e.newValue, changeId],
  );
}

/** The tenant's latest licence events, newest first. */
export async function recentLicenceEvents(db: Queryable, providerId: string, tenantId: string, limit = 20): Promise<Array<Record<string, unknown>>> {
  const res = await db.query(
    'SELECT observed_at, source, kind, subscription_id, old_value, new_value FROM licence_event WHERE provider_id = $1 AND tenant_id = $2 ORDER BY id DESC LIMIT $3',
    [providerId, tenantId, limit],
  );
  return res.rows;
}
