import type { Pool, PoolClient } from './pool';

type Queryable = Pool | PoolClient;

/** Remembers "this tenant is that service" (an admin's allocation), so its later lines are identified without one. */
export async function rememberTenantAllocation(
  db: Queryable,
  providerId: string,
  tenantId: string,
  serviceId: string,
  by: string,
): Promise<void> {
  await db.query(
    `INSERT INTO tenant_allocation (provider_id, tenant_id, service_id, allocated_by) VALUES ($1, lower($2), $3, $4)
     ON CONFLICT (provider_id, tenant_id) DO UPDATE SET service_id = EXCLUDED.service_id, allocated_by = EXCLUDED.allocated_by, allocated_at = now()`,
    [providerId, tenantId, serviceId, by],
  );
}
