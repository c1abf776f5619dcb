import type { Pool, PoolClient } from './pool';

type Queryable = Pool | PoolClient;

export interface ServiceRow {
  id: string;
  provider_id: string;
  tenant_id: string;
  tenant_domain: string | null;
  customer_id: string | null;
  customer_name: string | null;
  client_ref: string | null;
  contract_agreement_id: string | null;
  service_type_id: number;
  service_type_name: string;
  carrier: string;
  cancelled_on: string | null;
  carrier_status: string | null;
  gone_at_carrier_since: Date | null;
  created_at: Date;
}

const COLUMNS = `id, provider_id, tenant_id, tenant_domain, customer_id, customer_name, client_ref, contract_agreement_id, service_type_id,
  service_type_name, carrier, to_char(cancelled_on, 'YYYY-MM-DD') AS cancelled_on, carrier_status, gone_at_carrier_since, created_at`;

export interface TenantFacts {
  tenantId: string;
  domain: string | null;
  customerId: string | null;
  customerName: string | null;
  clientRef: string | null;
  contractAgreementId: string | null;
  carrierStatus: string | null;
}

/** One service per tenant: created when new, its carrier facts refreshed when known. */
export async function upsertTenantService(
  db: Queryable,
  providerId: string,
  t: TenantFacts,
): Promise<{ service: ServiceRow; created: boolean }> {
  const res = await db.query<ServiceRow & { created: boolean }>(
    `INSERT INTO service (provider_id, tenant_id, tenant_domain, customer_id, customer_name, client_ref, contract_agreement_id, carrier_status)
     VALUES ($1, lower($2), $3, $4, $5, $6, $7, $8)
     ON CONFLICT (provider_id, tenant_id) DO UPDATE SET
       tenant_domain = COALESCE(EXCLUDED.tenant_domain, service.tenant_domain),
       customer_id = COALESCE(EXCLUDED.customer_id, service.customer_id),
       customer_name = COALESCE(EXCLUDED.customer_name, service.customer_name),
       client_ref = COALESCE(EXCLUDED.client_ref, service.client_ref),
       contract_agreement_id = COALESCE(EXCLUDED.contract_agreement_id, service.contract_agreement_id),
       carrier_status = COALESCE(EXCLUDED.carrier_status, service.carrier_status),
       gone_at_carrier_since = NULL
     RETURNING ${COLUMNS}, (xmax = 0) AS created`,
    [
      providerId,
      t.tenantId,
      t.domain,
      t.customerId,
      t.customerName,
      t.clientRef,
      t.contractAgreementId,
      t.carrierStatus,
    ],
  );
  const { created, ...service } = res.rows[0]!;
  return { service, created };
}

export async function listServices(db: Queryable, providerId?: string): Promise<ServiceRow[]> {
  const res = await db.query<ServiceRow>(
    `SELECT ${COLUMNS} FROM service ${providerId ? 'WHERE provider_id = $1' : ''} ORDER BY provider_id, id`,
    providerId ? [providerId] : [],
  );
  return res.rows;
}

/** The provider's service for one tenant (a tenant is one service of its provider). */
export async function tenantService(db: Queryable, providerId: string, tenantId: string): Promise<ServiceRow | null> {
  const res = await db.query<ServiceRow>(
    `SELECT ${COLUMNS} FROM service WHERE provider_id = $1 AND tenant_id = lower($2)`,
    [providerId, tenantId],
  );
  return res.rows[0] ?? null;
}

export async function getService(db: Queryable, idOrTenant: string): Promise<ServiceRow | null> {
  const res = await db.query<ServiceRow>(
    `SELECT ${COLUMNS} FROM service WHERE id = $1 OR tenant_id = lower($1) OR lower(tenant_domain) = lower($1) ORDER BY (id = $1) DESC LIMIT 1`,
    [idOrTenant],
  );
  return res.rows[0] ?? null;
}

/** Stops billing from this date; the licence at the carrier is not touched. */
export async function cancelService(db: Queryable, serviceId: string, cancelledOn: string): Promise<void> {
  await db.query('UPDATE service SET cancelled_on = $2 WHERE id = $1', [serviceId, cancelledOn]);
}

export async function reactivateService(db: Queryable, serviceId: string): Promise<void> {
  await db.query('UPDATE service SET cancelled_on = NULL WHERE id = $1', [serviceId]);
}

/** Tenants no longer listed at the carrier are flagged, never deleted. */
export async function flagTenantsGone(
  db: Queryable,
  providerId: string,
  presentTenantIds: string[],
): Promise<string[]> {
  const res = await db.query<{ id: string }>(
    `UPDATE service SET gone_at_carrier_since = now()
      WHERE provider_id = $1 AND gone_at_carrier_since IS NULL AND NOT (tenant_id = ANY($2::text[])) RETURNING id`,
    [providerId, presentTenantIds.map((t) => t.toLowerCase())],
  );
  return res.rows.map((r) => r.id);
}

/** The provider a service belongs to; null when there is no such service. */
export async function serviceOwner(db: Queryable, serviceId: string): Promise<string | null> {
  const res = await db.query<{ provider_id: string }>('SELECT provider_id FROM service WHERE id = $1', [serviceId]);
  return res.rows[0]?.provider_id ?? null;
}

/** The carrier no longer knows the tenant: flagged (from the first time seen), never deleted. */
export async function flagTenantGone(db: Queryable, providerId: string, tenantId: string): Promise<void> {
  await db.query(
    `UPDATE service SET gone_at_carrier_since = coalesce(gone_at_carrier_since, now()) WHERE provider_id = $1 AND tenant_id = lower($2)`,
    [providerId, tenantId],
  );
}
