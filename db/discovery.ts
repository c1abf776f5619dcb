import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from './pool';

import type { DiscoveryProgress } from '../workflows/onboarding.api';

export type { DiscoveryProgress };

type Queryable = Pool | PoolClient;

export interface DiscoveredTenant {
  tenantId: string;
  customerId: string | null;
  customerName: string | null;
  contractAgreementId: string | null;
}

/** The provider's open discovery (a resumed onboarding continues it), or a new one. */
export async function openDiscovery(db: Queryable, providerId: string): Promise<string> {
  const open = await db.query<{ id: string }>(
    `SELECT id FROM discovery_run WHERE provider_id = $1 AND status <> 'COMPLETED'`,
    [providerId],
  );
  if (open.rows[0]) {
    await db.query(`UPDATE discovery_run SET status = 'RUNNING', error = NULL, updated_at = now() WHERE id = $1`, [
      open.rows[0].id,
    ]);
    return open.rows[0].id;
  }
  const id = `d-${randomUUID().slice(0, 8)}`;
  const res = await db.query<{ id: string }>(
    `INSERT INTO discovery_run (id, provider_id) VALUES ($1, $2)
     ON CONFLICT (provider_id) WHERE status <> 'COMPLETED' DO UPDATE SET updated_at = now() RETURNING id`,
    [id, providerId],
  );
  return res.rows[0]!.id;
}

/** Records the customer list's tenants once; a repeat (a retried activity) adds nothing. */
export async function recordCustomerTenants(
  db: Queryable,
  discoveryId: string,
  tenants: DiscoveredTenant[],
): Promise<void> {
  await db.query(
    `INSERT INTO discovery_tenant (discovery_id, tenant_id, customer_id, customer_name, contract_agreement_id)
     SELECT $1, lower(t->>'tenantId'), t->>'customerId', t->>'customerName', t->>'contractAgreementId' FROM jsonb_array_elements($2::jsonb) t
     ON CONFLICT DO NOTHING`,
    [discoveryId, JSON.stringify(tenants)],
  );
  await db.query(`UPDATE discovery_run SET customers_listed = true, updated_at = now() WHERE id = $1`, [discoveryId]);
}

export async function customersListed(db: Queryable, discoveryId: string): Promise<boolean> {
  const r = await db.query<{ customers_listed: boolean }>('SELECT customers_listed FROM discovery_run WHERE id = $1', [
    discoveryId,
  ]);
  return r.rows[0]?.customers_listed ?? false;
}

/** Contract agreements with tenants still to read (null: tenants without an agreement, read one by one). */
export async function pendingAgreements(
  db: Queryable,
  discoveryId: string,
  limit: number,
): Promise<Array<string | null>> {
  const r = await db.query<{ contract_agreement_id: string | null }>(
    `SELECT DISTINCT contract_agreement_id FROM discovery_tenant WHERE discovery_id = $1 AND NOT done
      ORDER BY contract_agreement_id NULLS LAST LIMIT $2`,
    [discoveryId, limit],
  );
  return r.rows.map((x) => x.contract_agreement_id);
}

export async function pendingTenants(
  db: Queryable,
  discoveryId: string,
  contractAgreementId: string | null,
): Promise<DiscoveredTenant[]> {
  const r = await db.query<{
    tenant_id: string;
    customer_id: string | null;
    customer_name: string | null;
    contract_agreement_id: string | null;
  }>(
    `SELECT tenant_id, customer_id, customer_name, contract_agreement_id FROM discovery_tenant
      WHERE discovery_id = $1 AND NOT done AND contract_agreement_id IS NOT DISTINCT FROM $2 ORDER BY tenant_id`,
    [discoveryId, contractAgreementId],
  );
  return r.rows.map((x) => ({
    tenantId: x.tenant_id,
    customerId: x.customer_id,
    customerName: x.customer_name,
    contractAgreementId: x.contract_agreement_id,
  }));
}

/** Marks tenants read and stored, in the transaction that stored them. */
export async function markTenantsDone(
  db: Queryable,
  discoveryId: string,
  tenantIds: string[],
  servicesCreated: number,
): Promise<void> {
  await db.query(`UPDATE discovery_tenant SET done = true WHERE discovery_id = $1 AND tenant_id = ANY($2::text[])`, [
    discoveryId,
    tenantIds.map((t) => t.toLowerCase()),
  ]);
  await db.query(
    `UPDATE discovery_run SET services_created = services_created + $2, updated_at = now() WHERE id = $1`,
    [discoveryId, servicesCreated],
  );
}

export async function discoveredTenantIds(db: Queryable, discoveryId: string): Promise<string[]> {
  const r = await db.query<{ tenant_id: string }>('SELECT tenant_id FROM discovery_tenant WHERE discovery_id = $1', [
    discoveryId,
  ]);
  return r.rows.map((x) => x.tenant_id);
}

/** Closes the discovery once: a retry of its last step leaves the count of the first alone. */
export async function finishDiscovery(db: Queryable, discoveryId: string, flaggedGone: number): Promise<void> {
  await db.query(
    `UPDATE discovery_run SET status = 'COMPLETED', flagged_gone = $2, finished_at = now(), updated_at = now() WHERE id = $1 AND status <> 'COMPLETED'`,
    [discoveryId, flaggedGone],
  );
}

export async function failDiscovery(db: Queryable, discoveryId: string, error: string): Promise<void> {
  await db.query(
    `UPDATE discovery_run SET status = 'FAILED', error = $2, updated_at = now() WHERE id = $1 AND status <> 'COMPLETED'`,
    [discoveryId, error],
  );
}

export async function markProviderOnboarded(db: Queryable, providerId: string): Promise<void> {
  await db.query('UPDATE provider SET onboarded_at = COALESCE(onboarded_at, now()), updated_at = now() WHERE id = $1', [
    providerId,
  ]);
}

/** The provider's latest discovery with its counts (null: never discovered). */
export async function latestDiscovery(db: Queryable, providerId: string): Promise<DiscoveryProgress | null> {
  const r = await db.query<{
    id: string;
    provider_id: string;
    status: DiscoveryProgress['status'];
    customers_listed: boolean;
    tenants: number;
    tenants_done: number;
    agreements: number;
    agreements_done: number;
    services_created: number;
    flagged_gone: number;
    error: string | null;
    started_at: Date;
    updated_at: Date;
    finished_at: Date | null;
  }>(
    `SELECT d.*, coalesce(t.tenants, 0)::int AS tenants, coalesce(t.tenants_done, 0)::int AS tenants_done,
            coalesce(t.agreements, 0)::int AS agreements, coalesce(t.agreements_done, 0)::int AS agreements_done
       FROM discovery_run d
       LEFT JOIN LATERAL (
         SELECT count(*) AS tenants, count(*) FILTER (WHERE done) AS tenants_done,
                count(DISTINCT contract_agreement_id) AS agreements,
                count(DISTINCT contract_agreement_id) - count(DISTINCT contract_agreement_id) FILTER (WHERE NOT done) AS agreements_done
           FROM discovery_tenant WHERE discovery_id = d.id) t ON true
      WHERE d.provider_id = $1 ORDER BY d.started_at DESC, d.id DESC LIMIT 1`,
    [providerId],
  );
  const x = r.rows[0];
  if (!x) return null;
  return {
    discoveryId: x.id,
    providerId: x.provider_id,
    status: x.status,
    customersListed: x.customers_listed,
    tenants: x.tenants,
    tenantsDone: x.tenants_done,
    agreements: x.agreements,
    agreementsDone: x.agreements_done,
    servicesCreated: x.services_created,
    flaggedGone: x.flagged_gone,
    error: x.error,
    startedAt: x.started_at,
    updatedAt: x.updated_at,
    finishedAt: x.finished_at,
  };
}
