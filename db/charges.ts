import type { Pool, PoolClient } from './pool';

type Queryable = Pool | PoolClient;

import type { BucketInput } from '../core/billing-report';

/**
 * The misc usage bucket as billed for one month: one row per service × product, with the
 * customer and product names. Credits (negative entries) count in the sums and separately.
 * `recordIds` are the bucket's distinct RecordIds (sorted), for the export to trace each row.
 * Amounts are numeric text, exact. The shape is the one the pure report (core/) takes.
 */
export type BucketRow = BucketInput;

export async function bucketRows(db: Queryable, providerId: string, period: string): Promise<BucketRow[]> {
  const res = await db.query<BucketRow>(
    `SELECT s.customer_id AS "customerId", s.customer_name AS "customerName", c.service_id AS "serviceId", s.tenant_domain AS "tenantDomain",
            c.product_key AS "productId",
            coalesce((SELECT min(product_name) FROM licence WHERE provider_id = c.provider_id AND product_id = c.product_key),
                     min(l.raw::json ->> 'OfferName')) AS "productName",
            count(*)::int AS lines, count(DISTINCT c.record_key)::int AS records,
            array_agg(DISTINCT c.record_key ORDER BY c.record_key) AS "recordIds",
            sum(c.units)::text AS units,
            sum(c.carrier_cost)::text AS cost, sum(c.charge)::text AS charge, sum(c.margin)::text AS margin,
            count(*) FILTER (WHERE c.charge < 0)::int AS "creditLines", coalesce(sum(c.charge) FILTER (WHERE c.charge < 0), 0)::text AS credits,
            count(*) FILTER (WHERE c.usage_period <> c.billing_period)::int AS "adjustmentLines"
       FROM usage_charge c
       JOIN service s ON s.id = c.service_id
       JOIN usage_line l ON l.id = c.usage_line_id
      WHERE c.provider_id = $1 AND c.billing_period = $2
      GROUP BY c.provider_id, s.customer_id, s.customer_name, c.service_id, s.tenant_domain, c.product_key
      ORDER BY coalesce(s.customer_name, s.tenant_domain, c.service_id), c.service_id, c.product_key`,
    [providerId, period],
  );
  return res.rows;
}
