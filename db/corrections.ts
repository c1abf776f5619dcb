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
  const credited = await creditCharges(
    db,
    charges.rows.map((r) => r.id),
    tag,
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
  const { amount, periods } = credited;
  return { lines: charges.rows.length, amount, currency, periods };
}

/**
 * Credits live charges: each is set not live and a CREDIT entry reversing it is written, tagged
 * `tag`, in the charge's month or (closed) the next open one, inside the caller's transaction
 * with the charges locked. Returns the amount credited (positive) and the months it landed in.
 */
export async function creditCharges(
  db: PoolClient,
  chargeIds: number[],
  tag: string,
): Promise<{ amount: string; periods: string[] }> {
  await db.query('UPDATE usage_charge SET live = false WHERE id = ANY($1::bigint[])', [chargeIds]);
  const res = await db.query<{ amount: string; periods: string[] }>(
    `WITH credits AS (
       INSERT INTO usage_charge (usage_line_id, provider_id, record_key, service_id, billing_period, usage_period, product_key, units,
                                 unit_rate, billable_ratio, carrier_cost, charge, margin, rule_kind, cycle_id, charge_start, charge_end,
                                 entry, live, reverses_charge_id)
       SELECT usage_line_id, provider_id, record_key, service_id, billing_period, usage_period, product_key, -units,
              unit_rate, billable_ratio, -carrier_cost, -charge, -margin, rule_kind, $2, charge_start, charge_end,
              'CREDIT', false, id
         FROM usage_charge WHERE id = ANY($1::bigint[])
       RETURNING charge, billing_period)
     SELECT coalesce(-sum(charge), 0)::text AS amount,
            coalesce(array_agg(DISTINCT billing_period ORDER BY billing_period), '{}') AS periods FROM credits`,
    [chargeIds, tag],
  );
  return res.rows[0]!;
}

/** What a re-rate covers: the live charges invoiced in one month, optionally of one product or service. */
export interface RerateScope {
  providerId: string;
  period: string;
  productId?: string | null;
  serviceId?: string | null;
}

export interface LiveChargeRow {
  id: number;
  service_id: string;
  customer: string;
  product_key: string;
  charge: string;
  raw: string;
}

/**
 * The live charges of a re-rate's scope after charge `afterId`, in id order, with the lines they
 * billed. `lock` takes them for update (inside the caller's transaction), for a re-rate that
 * writes; a preview reads without locking.
 */
export async function liveChargesInScope(
  db: Queryable,
  scope: RerateScope,
  afterId: number,
  limit: number,
  lock: boolean,
): Promise<LiveChargeRow[]> {
  const res = await db.query<LiveChargeRow>(
    `SELECT c.id, c.service_id, coalesce(s.customer_name, s.tenant_domain, c.service_id) AS customer, c.product_key,
            c.charge::text, l.raw
       FROM usage_charge c
       JOIN usage_line l ON l.id = c.usage_line_id
       JOIN service s ON s.id = c.service_id
      WHERE c.provider_id = $1 AND c.billing_period = $2 AND c.live AND c.id > $3
        AND ($4::text IS NULL OR c.product_key = $4) AND ($5::text IS NULL OR c.service_id = $5)
      ORDER BY c.id LIMIT $6 ${lock ? 'FOR UPDATE OF c' : ''}`,
    [scope.providerId, scope.period, afterId, scope.productId?.toLowerCase() ?? null, scope.serviceId ?? null, limit],
  );
  return res.rows;
}

/** A live charge and what today's rate card charges for its line (4-place texts). */
export interface Recharge {
  chargeId: number;
  charge: string;
  cost: string;
  margin: string;
  ruleKind: string;
}

/**
 * Credits each charge (a CREDIT reversing it) and charges its line again at the new amount (a
 * CHARGE that replaces it), both tagged `tag`, inside the caller's transaction with the charges
 * locked. The credit lands in the charge's month (or the next open one); so does the new charge.
 */
export async function recharge(db: PoolClient, recharges: Recharge[], tag: string): Promise<void> {
  if (recharges.length === 0) return;
  const ids = recharges.map((r) => r.chargeId);
  await creditCharges(db, ids, tag);
  await db.query(
    `INSERT INTO usage_charge (usage_line_id, provider_id, record_key, service_id, billing_period, usage_period, product_key, units,
                               unit_rate, billable_ratio, carrier_cost, charge, margin, rule_kind, cycle_id, charge_start, charge_end,
                               entry, live, replaces_charge_id)
     SELECT c.usage_line_id, c.provider_id, c.record_key, c.service_id, c.billing_period, c.usage_period, c.product_key, c.units,
            c.unit_rate, c.billable_ratio, v.cost, v.charge, v.margin, v.kind, $6, c.charge_start, c.charge_end,
            'CHARGE', true, c.id
       FROM unnest($1::bigint[], $2::numeric[], $3::numeric[], $4::numeric[], $5::text[]) AS v(id, charge, cost, margin, kind)
       JOIN usage_charge c ON c.id = v.id`,
    [
      ids,
      recharges.map((r) => r.charge),
      recharges.map((r) => r.cost),
      recharges.map((r) => r.margin),
      recharges.map((r) => r.ruleKind),
      tag,
    ],
  );
}

/** What a re-rate wrote (its entries carry `tag`), per customer, in customer order. */
export async function rerateEntries(
  db: Queryable,
  providerId: string,
  tag: string,
): Promise<Array<{ customer: string; lines: number; oldCharge: string; newCharge: string; delta: string }>> {
  const res = await db.query<{ customer: string; lines: number; oldCharge: string; newCharge: string; delta: string }>(
    `SELECT coalesce(s.customer_name, s.tenant_domain, c.service_id) AS customer,
            count(*) FILTER (WHERE c.entry = 'CHARGE')::int AS lines,
            (-coalesce(sum(c.charge) FILTER (WHERE c.entry = 'CREDIT'), 0))::numeric(38, 4)::text AS "oldCharge",
            coalesce(sum(c.charge) FILTER (WHERE c.entry = 'CHARGE'), 0)::numeric(38, 4)::text AS "newCharge",
            coalesce(sum(c.charge), 0)::numeric(38, 4)::text AS delta
       FROM usage_charge c JOIN service s ON s.id = c.service_id
      WHERE c.provider_id = $1 AND c.cycle_id = $2
      GROUP BY 1 ORDER BY 1`,
    [providerId, tag],
  );
  return res.rows;
}

/** The open months holding live charges a rate change could re-price (of one product, or all). */
export async function openPeriodsWithCharges(
  db: Queryable,
  providerId: string,
  productId: string | null,
): Promise<string[]> {
  const res = await db.query<{ period: string }>(
    `SELECT DISTINCT billing_period AS period FROM usage_charge
      WHERE provider_id = $1 AND live AND ($2::text IS NULL OR product_key = $2)
        AND NOT billing_period_is_closed(provider_id, billing_period)
      ORDER BY 1`,
    [providerId, productId?.toLowerCase() ?? null],
  );
  return res.rows.map((r) => r.period);
}
