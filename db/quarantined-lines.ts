import type { Pool, PoolClient } from './pool';
import { parseGroupKey, type CleanseSelection, type QuarantineSort } from '../core/quarantine-group';
import type { StoredLineRow } from './usage-lines';
import type { GroupSummary } from '../workflows/quarantine-group.api';

type Queryable = Pool | PoolClient;

/**
 * SQL: the usage line (columns prefixed by `alias`) is one of group $1's: under its key now, or
 * taken by one of its actions (a billed line's key is cleared; a cleansed one may move on). A
 * rejected action took no line.
 */
export function lineOfGroup(alias = ''): string {
  return `(${alias}group_key = $1 OR ${alias}id IN (SELECT unnest(line_ids) FROM quarantine_action WHERE group_key = $1))`;
}

/**
 * The misc quarantine: usage_line rows with status QUARANTINED, by group. (Mediation, which puts
 * lines here and takes them out, is db/usage-lines.ts.)
 */

/** The group's quarantined lines, locked until the transaction ends so one action takes them. */
export async function lockGroupLines(db: PoolClient, groupKey: string): Promise<number[]> {
  const res = await db.query<{ id: number }>(
    `SELECT id FROM usage_line WHERE group_key = $1 AND status = 'QUARANTINED' ORDER BY id FOR UPDATE`,
    [groupKey],
  );
  return res.rows.map((r) => r.id);
}

export async function writeOffLines(db: Queryable, ids: number[], detail: string, actionId: string): Promise<void> {
  await db.query(
    `UPDATE usage_line SET status = 'WRITTEN_OFF', reason_detail = $2, mediated_cycle_id = $3, updated_at = now() WHERE id = ANY($1::bigint[])`,
    [ids, detail, actionId],
  );
}

/** Lines wait as CLEANSED for re-mediation (which may run in several batches, and resume after a crash). */
export async function markLinesCleansed(db: Queryable, ids: number[]): Promise<void> {
  await db.query(`UPDATE usage_line SET status = 'CLEANSED', updated_at = now() WHERE id = ANY($1::bigint[])`, [ids]);
}

/**
 * Returns these lines still waiting as CLEANSED to quarantine (their reason and group unchanged),
 * with why they were not billed: a re-mediation that failed for good leaves nothing half-way.
 */
export async function requarantineCleansedLines(db: Queryable, ids: number[], detail: string): Promise<number> {
  const res = await db.query(
    `UPDATE usage_line SET status = 'QUARANTINED', reason_detail = $2, updated_at = now() WHERE id = ANY($1::bigint[]) AND status = 'CLEANSED'`,
    [ids, detail],
  );
  return res.rowCount ?? 0;
}

/**
 * Where these lines ended up, what the billed ones were charged (`amount`), and what the written-off
 * ones were worth (`writtenOffAmount`: their carrier charge, SubTotal, in the records' own currency,
 * to 4 places): a write-off bills nothing, but what it gave up is its amount.
 */
export async function lineOutcomes(
  db: Queryable,
  ids: number[],
): Promise<{
  billed: number;
  requarantined: number;
  writtenOff: number;
  amount: string | null;
  writtenOffAmount: string | null;
}> {
  const res = await db.query<{
    billed: number;
    requarantined: number;
    written_off: number;
    amount: string | null;
    written_off_amount: string | null;
  }>(
    `SELECT count(*) FILTER (WHERE l.status = 'COMPLETED')::int AS billed,
            count(*) FILTER (WHERE l.status = 'QUARANTINED')::int AS requarantined,
            count(*) FILTER (WHERE l.status = 'WRITTEN_OFF')::int AS written_off,
            sum(c.charge)::text AS amount,
            round(sum(l.sub_total) FILTER (WHERE l.status = 'WRITTEN_OFF'), 4)::text AS written_off_amount
       FROM usage_line l LEFT JOIN usage_charge c ON c.usage_line_id = l.id AND c.live
      WHERE l.id = ANY($1::bigint[])`,
    [ids],
  );
  const r = res.rows[0]!;
  return {
    billed: r.billed,
    requarantined: r.requarantined,
    writtenOff: r.written_off,
    amount: r.amount,
    writtenOffAmount: r.written_off_amount,
  };
}

/**
 * A summary's `asOf`: its statement's start (microseconds, UTC, fixed width: text order is time
 * order). A quarantine group shows the later-stamped of two summaries. The order is close, not
 * exact (the statement's snapshot can be taken just before its stamp, and clocks can step), so a
 * group never decides it is empty on stamps alone (workflows/quarantine-group.ts). Read outside a
 * transaction: inside a REPEATABLE READ one the snapshot would be older than the stamp says.
 */
const AS_OF = `to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** What a group's summary is made of, aggregated over its quarantined lines (both reads below). */
const SUMMARY_COLUMNS = `count(*)::int AS n, sum(sub_total)::text AS total, min(left(charge_start, 10)) AS from, max(left(charge_start, 10)) AS to, ${AS_OF} AS as_of`;

interface SummaryRow {
  n: number;
  total: string | null;
  from: string | null;
  to: string | null;
  as_of: string;
}

function summaryOf(groupKey: string, r: SummaryRow): GroupSummary {
  const { providerId, reason, tenantRef } = parseGroupKey(groupKey);
  return {
    groupKey,
    providerId,
    reason,
    tenantRef,
    lines: r.n,
    carrierCharge: r.total ?? '0',
    periodFrom: r.from,
    periodTo: r.to,
    asOf: r.as_of,
  };
}

export async function groupSummary(db: Queryable, groupKey: string): Promise<GroupSummary> {
  const res = await db.query<SummaryRow>(
    `SELECT ${SUMMARY_COLUMNS} FROM usage_line WHERE group_key = $1 AND status = 'QUARANTINED'`,
    [groupKey],
  );
  return summaryOf(groupKey, res.rows[0]!);
}

/**
 * Many groups' summaries and who their lines belong to, in one statement: what `groupSummary`
 * and `groupIdentity` give for one group (the identity from the group's first quarantined line).
 * Groups without quarantined lines are left out.
 */
export async function groupSummaries(
  db: Queryable,
  groupKeys: readonly string[],
): Promise<Array<GroupSummary & { customer: string | null; domain: string | null }>> {
  const res = await db.query<SummaryRow & { group_key: string; customer: string | null; domain: string | null }>(
    `SELECT group_key, ${SUMMARY_COLUMNS},
            (array_agg(raw ORDER BY id))[1]::jsonb ->> 'CustomerName' AS customer, (array_agg(raw ORDER BY id))[1]::jsonb ->> 'PrimaryDomainName' AS domain
       FROM usage_line WHERE group_key = ANY($1::text[]) AND status = 'QUARANTINED' GROUP BY group_key`,
    [groupKeys],
  );
  return res.rows.map((r) => ({ ...summaryOf(r.group_key, r), customer: r.customer, domain: r.domain }));
}

/** The groups that received lines from one cycle or action, with how many. */
export async function groupsMediatedBy(
  db: Queryable,
  providerId: string,
  mediatedBy: string,
): Promise<Array<{ groupKey: string; lines: number }>> {
  const res = await db.query<{ group_key: string; n: number }>(
    `SELECT group_key, count(*)::int AS n FROM usage_line
      WHERE provider_id = $1 AND mediated_cycle_id = $2 AND status = 'QUARANTINED' GROUP BY group_key ORDER BY group_key`,
    [providerId, mediatedBy],
  );
  return res.rows.map((r) => ({ groupKey: r.group_key, lines: r.n }));
}

/** The groups holding lines a fix may release (see linesReleasedBy). */
export async function groupsMatching(db: Queryable, providerId: string, sel: CleanseSelection): Promise<string[]> {
  const res = await db.query<{ group_key: string }>(
    `SELECT DISTINCT group_key FROM usage_line
      WHERE provider_id = $1 AND status = 'QUARANTINED' AND reason = $2
        AND ($3::text IS NULL OR tenant_ref = lower($3)) AND ($4::text IS NULL OR product_ref = lower($4)) AND ($5::text IS NULL OR service_id = $5)
      ORDER BY group_key`,
    [providerId, sel.reason, sel.tenantId, sel.productId, sel.serviceId],
  );
  return res.rows.map((r) => r.group_key);
}

export interface QuarantineGroupRow {
  group_key: string;
  provider_id: string;
  reason: string;
  tenant_ref: string;
  lines: number;
  carrier_charge: string | null;
  period_from: string;
  period_to: string;
  customer: string | null;
  domain: string | null;
  /** Whole days since the group's oldest line was received (usage_line.received_at). */
  age_days: number;
}

const GROUPS_WHERE = `status = 'QUARANTINED' AND ($1::text IS NULL OR reason = $1) AND ($2::text IS NULL OR provider_id = $2)`;

/** Each sort puts the largest first (the oldest, in whole days, for age); ties keep the group key order. */
const GROUPS_ORDER: Record<QuarantineSort | 'group', string> = {
  group: 'provider_id, reason, group_key',
  amount: 'sum(sub_total) DESC NULLS LAST, group_key',
  age: 'age_days DESC, group_key',
  lines: 'count(*) DESC, group_key',
};

/**
 * The admin's view of the quarantine: one row per group, with the carrier's customer name and
 * domain to recognise it by, in the chosen order (by provider, reason and key unless sorted).
 * The console pages it (`page`); the CLI lists all.
 */
export async function listQuarantineGroups(
  db: Queryable,
  filter: { reason: string | null; providerId: string | null },
  page: { offset: number; limit: number | null } = { offset: 0, limit: null },
  sort: QuarantineSort | null = null,
): Promise<QuarantineGroupRow[]> {
  const res = await db.query<QuarantineGroupRow>(
    `SELECT group_key, provider_id, reason, min(tenant_ref) AS tenant_ref, count(*)::int AS lines, round(sum(sub_total), 4)::text AS carrier_charge,
            min(left(charge_start, 10)) AS period_from, max(left(charge_start, 10)) AS period_to,
            min(raw::jsonb ->> 'CustomerName') AS customer, min(raw::jsonb ->> 'PrimaryDomainName') AS domain,
            floor(extract(epoch FROM now() - min(received_at)) / 86400)::int AS age_days
       FROM usage_line
      WHERE ${GROUPS_WHERE}
      GROUP BY group_key, provider_id, reason ORDER BY ${GROUPS_ORDER[sort ?? 'group']} OFFSET $3 LIMIT $4`,
    [filter.reason, filter.providerId, page.offset, page.limit],
  );
  return res.rows;
}

/** What a filter of the quarantine holds: its groups and lines, and the carrier charge per currency. */
export interface QuarantineTotals {
  groups: number;
  lines: number;
  /** Currency → exact carrier charge (4 places); CURRENCY_MISMATCH lines count in their records' currency. */
  carrierCharge: Record<string, string>;
}

export async function quarantineTotals(
  db: Queryable,
  filter: { reason: string | null; providerId: string | null },
): Promise<QuarantineTotals> {
  const res = await db.query<{ currency: string; groups: number; lines: number; amount: string }>(
    `SELECT coalesce(CASE WHEN l.reason = 'CURRENCY_MISMATCH' THEN upper(l.raw::jsonb ->> 'Currency') END, upper(p.currency)) AS currency,
            count(DISTINCT l.group_key)::int AS groups, count(*)::int AS lines, round(coalesce(sum(l.sub_total), 0), 4)::text AS amount
       FROM (SELECT group_key, reason, raw, sub_total, provider_id FROM usage_line WHERE ${GROUPS_WHERE}) l
       JOIN provider p ON p.id = l.provider_id
      GROUP BY 1 ORDER BY 1`,
    [filter.reason, filter.providerId],
  );
  return {
    groups: await countQuarantineGroups(db, filter),
    lines: res.rows.reduce((n, r) => n + r.lines, 0),
    carrierCharge: Object.fromEntries(res.rows.map((r) => [r.currency, r.amount])),
  };
}

/**
 * A group's quarantined lines as mediation reads them (activities/mediate.ts), without locking
 * them: what an allocation would take, for its preview.
 */
export async function quarantinedLinesToMediate(db: Queryable, groupKey: string): Promise<StoredLineRow[]> {
  const res = await db.query<StoredLineRow>(
    `SELECT id, record_key, content_hash, raw, tenant_ref FROM usage_line WHERE group_key = $1 AND status = 'QUARANTINED' ORDER BY id`,
    [groupKey],
  );
  return res.rows;
}

export async function countQuarantineGroups(
  db: Queryable,
  filter: { reason: string | null; providerId: string | null },
): Promise<number> {
  const res = await db.query<{ n: number }>(
    `SELECT count(DISTINCT group_key)::int AS n FROM usage_line WHERE ${GROUPS_WHERE}`,
    [filter.reason, filter.providerId],
  );
  return res.rows[0]!.n;
}

/** A group's lines (any status: allocated and written-off ones stay in its history), first 200. */
export interface GroupLineRow {
  id: string;
  record_key: string;
  status: string;
  reason_detail: string | null;
  start: string;
  product: string | null;
  customer: string | null;
  domain: string | null;
  sub_total: string;
  /** The record's own currency (a CURRENCY_MISMATCH line's is not the provider's). */
  currency: string | null;
}

/**
 * A group's lines: those under its key now, and those its actions took (a billed line leaves its
 * group: its key is cleared; a cleansed line may move to another reason's group), each with its
 * status now. So after an allocation the group still shows the lines, billed, and whose they are.
 */
export async function listGroupLines(db: Queryable, groupKey: string): Promise<GroupLineRow[]> {
  const res = await db.query<GroupLineRow>(
    `SELECT id, record_key, status, reason_detail, left(charge_start, 10) AS start, raw::jsonb ->> 'OfferName' AS product,
            raw::jsonb ->> 'CustomerName' AS customer, raw::jsonb ->> 'PrimaryDomainName' AS domain, sub_total::text,
            raw::jsonb ->> 'Currency' AS currency
       FROM usage_line
      WHERE ${lineOfGroup()}
      ORDER BY id LIMIT 200`,
    [groupKey],
  );
  return res.rows;
}

/** NON_EXISTENT_SERVICE groups whose tenant has a service of the provider by now. */
export async function groupsOfServedTenants(db: Queryable, providerId: string): Promise<string[]> {
  const res = await db.query<{ group_key: string }>(
    `SELECT DISTINCT l.group_key FROM usage_line l
      WHERE l.provider_id = $1 AND l.status = 'QUARANTINED' AND l.reason = 'NON_EXISTENT_SERVICE'
        AND EXISTS (SELECT 1 FROM service s WHERE s.provider_id = $1 AND s.tenant_id = l.tenant_ref)
      ORDER BY 1`,
    [providerId],
  );
  return res.rows.map((r) => r.group_key);
}

/**
 * The records' own currencies of the CURRENCY_MISMATCH lines still quarantined, by group (of one
 * provider, or one group): only these lines are not in their provider's currency.
 */
export async function mismatchCurrencies(
  db: Queryable,
  where: { providerId?: string | null; groupKey?: string | null },
): Promise<Map<string, string[]>> {
  const res = await db.query<{ group_key: string; currencies: string[] }>(
    `SELECT group_key, array_agg(DISTINCT upper(raw::jsonb ->> 'Currency')) AS currencies FROM usage_line
      WHERE status = 'QUARANTINED' AND reason = 'CURRENCY_MISMATCH' AND ($1::text IS NULL OR provider_id = $1) AND ($2::text IS NULL OR group_key = $2)
      GROUP BY group_key`,
    [where.providerId ?? null, where.groupKey ?? null],
  );
  return new Map(res.rows.map((r) => [r.group_key, r.currencies.filter(Boolean)]));
}

/**
 * Whether any line was ever quarantined under this group key (a key nobody used is a typo): one
 * still there, or one an action took (a billed line leaves its group; the audit trail keeps it).
 */
export async function groupExists(db: Queryable, groupKey: string): Promise<boolean> {
  const res = await db.query(
    'SELECT 1 FROM usage_line WHERE group_key = $1 UNION ALL SELECT 1 FROM quarantine_action WHERE group_key = $1 LIMIT 1',
    [groupKey],
  );
  return (res.rowCount ?? 0) > 0;
}

/** Who a group's lines belong to, as the carrier named them (its first line). */
export async function groupIdentity(
  db: Queryable,
  groupKey: string,
): Promise<{ customer: string | null; domain: string | null }> {
  const res = await db.query<{ customer: string | null; domain: string | null }>(
    `SELECT raw::jsonb ->> 'CustomerName' AS customer, raw::jsonb ->> 'PrimaryDomainName' AS domain FROM usage_line
      WHERE ${lineOfGroup()}
      ORDER BY id LIMIT 1`,
    [groupKey],
  );
  return res.rows[0] ?? { customer: null, domain: null };
}
