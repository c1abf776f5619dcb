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

/** What one billing event put in the misc usage bucket: entries (credits included) and their sums. */
export interface BilledFigures {
  /** CHARGE entries written (lines billed). */
  lines: number;
  /** Net sums of the entries (a credit counts negative), exact numeric text. */
  charge: string;
  cost: string;
  margin: string;
}

/**
 * The entries a quarantine action (allocate, cleanse, accept-revision) wrote, by its tag: the
 * CHARGE entries on its lines, and the CREDIT entries reversing the charges those replaced.
 */
export async function billedByAction(
  db: Queryable,
  providerId: string,
  tag: string,
  lineIds: readonly number[],
): Promise<BilledFigures> {
  const res = await db.query<BilledFigures>(
    `WITH charged AS (
       SELECT charge, carrier_cost, margin, replaces_charge_id FROM usage_charge
        WHERE usage_line_id = ANY($3::bigint[]) AND entry = 'CHARGE' AND provider_id = $1 AND cycle_id = $2),
     entries AS (
       SELECT charge, carrier_cost, margin FROM charged
       UNION ALL
       SELECT cr.charge, cr.carrier_cost, cr.margin FROM usage_charge cr JOIN charged ch ON cr.reverses_charge_id = ch.replaces_charge_id
        WHERE cr.cycle_id = $2)
     SELECT (SELECT count(*) FROM charged)::int AS lines, coalesce(sum(charge), 0)::text AS charge,
            coalesce(sum(carrier_cost), 0)::text AS cost, coalesce(sum(margin), 0)::text AS margin FROM entries`,
    [providerId, tag, lineIds],
  );
  return res.rows[0]!;
}

/** The charges of an invoice's NOT_IN_FEED lines mediated under `tag` (lines stored with source `source`). */
export async function billedFromSource(
  db: Queryable,
  providerId: string,
  source: string,
  tag: string,
): Promise<BilledFigures> {
  const res = await db.query<BilledFigures>(
    `SELECT count(*) FILTER (WHERE c.entry = 'CHARGE')::int AS lines, coalesce(sum(c.charge), 0)::text AS charge,
            coalesce(sum(c.carrier_cost), 0)::text AS cost, coalesce(sum(c.margin), 0)::text AS margin
       FROM usage_line l JOIN usage_charge c ON c.usage_line_id = l.id
      WHERE l.provider_id = $1 AND l.first_cycle_id = $2 AND c.cycle_id = $3`,
    [providerId, source, tag],
  );
  return res.rows[0]!;
}
