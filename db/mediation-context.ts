import type { Pool, PoolClient } from './pool';
import { sharedDecimal } from '../core/money';
import type { RateCard, RuleKind, ServiceRef } from '../core/rating';

type Queryable = Pool | PoolClient;

/** The provider's services, allocations and rate card: everything mediation needs, read once per batch. */
export interface ProviderBillingContext {
  services: ServiceRef[];
  allocatedTenants: Map<string, string>;
  card: RateCard | null;
}

export async function loadBillingContext(db: Queryable, providerId: string): Promise<ProviderBillingContext> {
  // Sequential on purpose: inside a transaction `db` is one connection, which runs one query at a time.
  const services = await db.query<{ id: string; tenant_id: string; cancelled_on: string | null }>(
    `SELECT id, tenant_id, to_char(cancelled_on, 'YYYY-MM-DD') AS cancelled_on FROM service WHERE provider_id = $1 ORDER BY id`,
    [providerId],
  );
  const allocations = await db.query<{ tenant_id: string; service_id: string }>(
    'SELECT tenant_id, service_id FROM tenant_allocation WHERE provider_id = $1',
    [providerId],
  );
  return {
    services: services.rows.map((s) => ({ serviceId: s.id, tenantId: s.tenant_id, cancelledOn: s.cancelled_on })),
    allocatedTenants: new Map(allocations.rows.map((a) => [a.tenant_id, a.service_id])),
    card: await loadRateCard(db, providerId),
  };
}

/** The provider's rate card alone (null: none yet). */
export async function loadRateCard(db: Queryable, providerId: string): Promise<RateCard | null> {
  const card = await db.query<{ currency: string; default_markup_percent: string | null }>(
    'SELECT currency, default_markup_percent::text FROM rate_card WHERE provider_id = $1',
    [providerId],
  );
  const rules = await db.query<{ product_id: string; service_id: string | null; kind: RuleKind; value: string | null }>(
    'SELECT product_id, service_id, kind, value::text FROM rate_rule WHERE provider_id = $1 ORDER BY id',
    [providerId],
  );
  const cardRow = card.rows[0];
  return cardRow
    ? {
        currency: cardRow.currency,
        defaultMarkupPercent:
          cardRow.default_markup_percent === null ? null : sharedDecimal(cardRow.default_markup_percent),
        rules: rules.rows.map((r) => ({
          productId: r.product_id,
          serviceId: r.service_id,
          kind: r.kind,
          value: r.value === null ? null : sharedDecimal(r.value),
        })),
      }
    : null;
}
