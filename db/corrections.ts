import type { Pool, PoolClient } from './pool';
import { quarantineGroupKey } from '../core/quarantine-group';
import type { CreditSummary } from '../core/corrections';

export type { CreditSummary };

type Queryable = Pool | PoolClient;

// Corrections after billing: the rule is in core/corrections.ts.

/**
 * A live charge is in a cancel's scope when its usage starts on or after the cancel date: the
 * calendar date written in the record (in its own offset), the first ten characters of its
 * ChargeStartDate, as the SERVICE_INACTIVE rule reads it.
 */
const CANCELLED_SCOPE = `c.provider_id = $1 AND c.service_id = $2 AND c.live AND left(c.charge_start, 10) >= $3`;

/** What cancelling `serviceId` from `cancelledOn` would credit, without changing anything. */
export async function previewCancelCredits(
  db: Queryable,
  providerId: string,
  serviceId: string,
  cancelledOn: string,
): Promise<CreditSummary> {
  const res = await db.query<{ lines: number; amount: string; currency: string; periods: string[] }>(
    `SELECT count(*)::int AS lines, coalesce(sum(c.charge), 0)::text AS amount,
            (SELECT currency FROM provider WHERE id = $1) AS currency,
            coalesce(array_agg(DISTINCT p.period ORDER BY p.period) FILTER (WHERE c.id IS NOT NULL), '{}') AS periods
       FROM usage_charge c
       CROSS JOIN LATERAL (SELECT open_billing_period_from(c.provider_id, c.billing_period) AS period) p
      WHERE ${CANCELLED_SCOPE}`,
    [providerId, serviceId, cancelledOn],
  );
  return res.rows[0]!;
}

/**
 * Credits every live charge of the service whose usage starts on or after `cancelledOn`, and
 * returns those lines to quarantine as SERVICE_INACTIVE (`mediated_cycle_id` = `tag`, so their
 * groups can be told). Inside the caller's transaction. Running it again credits nothing more:
 * a credited charge is no longer live.
 */
export async function creditCancelledService(
  db: PoolClient,
  providerId: string,
  serviceId: string,
  cancelledOn: string,
  tag: string,
  by: string,
): Promise<CreditSummary> {
  const charges = await db.query<{ id: number; usage_line_id: number }>(
    `SELECT c.id, c.usage_line_id FROM usage_charge c WHERE ${CANCELLED_SCOPE} ORDER BY c.id FOR UPDATE`,
    [providerId, serviceId, cancelledOn],
  );
  const currency = (await db.query<{ currency: string }>('SELECT currency FROM provider WHERE id = $1', [providerId]))
    .rows[0]!.currency;
  if (charges.rows.length === 0) return { lines: 0, amount: '0', currency, periods: [] };
  const chargeIds = charges.rows.map((r) => r.id);
  await db.query('UPDATE usage_charge SET live = false WHERE id = ANY($1::bigint[])', [chargeIds]);
  const credited = await db.query<{ amount: string; periods: string[] }>(
    `WITH credits AS (
       INSERT INTO usage_charge (usage_line_id, provider_id, record_key, service_id, billing_period, usage_period, product_key, units,
                                 unit_rate, billable_ratio, carrier_cost, charge, margin, rule_kind, cycle_id, charge_start, charge_end,
                                 entry, live, reverses_charge_id)
       SELECT usage_line_id, provider_id, record_key, service_id, billing_period, usage_period, product_key, -units,
              unit_rate, billable_ratio, -carrier_cost, -charge, -margin, rule_kind, $2, charge_start, charge_end,
              'CREDIT', false, id
         FROM usage_charge WHERE id = ANY($1::bigint[])
       RETURNING charge, billing_period)
     SELECT (-sum(charge))::text AS amount, array_agg(DISTINCT billing_period ORDER BY billing_period) AS periods FROM credits`,
    [chargeIds, tag],
  );
  const lineIds = charges.rows.map((r) => r.usage_line_id);
  const lines = await db.query<{ id: number; tenant_ref: string | null }>(
    'SELECT id, tenant_ref FROM usage_line WHERE id = ANY($1::bigint[])',
    [lineIds],
  );
  await db.query(
    `UPDATE usage_line AS l
        SET status = 'QUARANTINED', reason = 'SERVICE_INACTIVE', reason_detail = $2, service_id = $3,
            group_key = v.grp, mediated_cycle_id = $4, updated_at = now()
       FROM unnest($1::bigint[], $5::text[]) AS v(id, grp)
      WHERE l.id = v.id`,
    [
      lines.rows.map((l) => l.id),
      `service ${serviceId} cancelled from ${cancelledOn} by ${by}: its charge was credited`,
      serviceId,
      tag,
      lines.rows.map((l) => quarantineGroupKey(providerId, 'SERVICE_INACTIVE', l.tenant_ref)),
    ],
  );
  const { amount, periods } = credited.rows[0]!;
  return { lines: charges.rows.length, amount, currency, periods };
}
