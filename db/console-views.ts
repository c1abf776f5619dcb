import type { Pool, PoolClient } from './pool';
import { lineOfGroup } from './quarantined-lines';

type Queryable = Pool | PoolClient;

/**
 * What the web console reads, across tables: the dashboard's figures, the quarantine queue and
 * a group's lines, tenant search and licence history. Reads only; every change goes through the
 * workflows' Updates or the modules that own the tables.
 */
export interface Paging {
  offset: number;
  limit: number;
}

export interface CycleRunRow {
  id: string;
  provider_id: string;
  status: 'RUNNING' | 'COMPLETED' | 'FAILED';
  window_start: string;
  window_end: string;
  fetched: number;
  summary: { billed?: number; quarantined?: number; charge?: string; cost?: string; margin?: string } | null;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
}

const CYCLE_COLUMNS = `id, provider_id, status, to_char(window_start, 'YYYY-MM-DD') AS window_start, to_char(window_end, 'YYYY-MM-DD') AS window_end,
  fetched, summary, error, started_at, finished_at`;

/** Each provider's most recent finished cycle, and the cycles running now. */
export async function cycleOverview(db: Queryable): Promise<{ last: CycleRunRow[]; running: CycleRunRow[] }> {
  const last = await db.query<CycleRunRow>(
    `SELECT DISTINCT ON (provider_id) ${CYCLE_COLUMNS} FROM cycle_run WHERE status <> 'RUNNING' ORDER BY provider_id, started_at DESC`,
  );
  const running = await db.query<CycleRunRow>(
    `SELECT ${CYCLE_COLUMNS} FROM cycle_run WHERE status = 'RUNNING' ORDER BY started_at`,
  );
  return { last: last.rows, running: running.rows };
}

export async function runningCycles(db: Queryable): Promise<Array<{ id: string; provider_id: string }>> {
  return (
    await db.query<{ id: string; provider_id: string }>(
      `SELECT id, provider_id FROM cycle_run WHERE status = 'RUNNING'`,
    )
  ).rows;
}

export interface QuarantineTotal {
  provider_id: string;
  reason: string;
  lines: number;
  groups: number;
  sub_total: string;
}

export async function quarantineTotals(db: Queryable): Promise<QuarantineTotal[]> {
  const res = await db.query<QuarantineTotal>(
    `SELECT provider_id, reason, count(*)::int AS lines, count(DISTINCT group_key)::int AS groups, coalesce(sum(sub_total), 0)::text AS sub_total
       FROM usage_line WHERE status = 'QUARANTINED' GROUP BY provider_id, reason ORDER BY provider_id, lines DESC`,
  );
  return res.rows;
}

/** The names a quarantined group's lines carry (from the carrier record), for suggestions and headings. */
export async function groupNames(
  db: Queryable,
  groupKey: string,
): Promise<{ customer: string | null; domain: string | null }> {
  const res = await db.query<{ customer: string | null; domain: string | null }>(
    `SELECT min(raw::jsonb ->> 'CustomerName') AS customer, min(raw::jsonb ->> 'PrimaryDomainName') AS domain
       FROM usage_line WHERE ${lineOfGroup()}`,
    [groupKey],
  );
  return res.rows[0] ?? { customer: null, domain: null };
}

export interface GroupLine {
  id: number;
  record_key: string;
  status: string;
  reason: string | null;
  reason_detail: string | null;
  charge_start: string | null;
  product: string | null;
  product_id: string | null;
  quantity: string | null;
  sub_total: string | null;
  currency: string | null;
  service_id: string | null;
  charge: string | null;
}

// A group's lines: those quarantined in it now, and those its actions took (billed, written off).
// A line's charge shown is its live one (a corrected line also carries credited entries).
const GROUP_LINES = `FROM usage_line l LEFT JOIN usage_charge c ON c.usage_line_id = l.id AND c.live
  WHERE ${lineOfGroup('l.')}`;

export async function countGroupLines(db: Queryable, groupKey: string): Promise<number> {
  return (await db.query<{ n: number }>(`SELECT count(*)::int AS n ${GROUP_LINES}`, [groupKey])).rows[0]!.n;
}

export async function listGroupLines(db: Queryable, groupKey: string, page: Paging): Promise<GroupLine[]> {
  const res = await db.query<GroupLine>(
    `SELECT l.id, l.record_key, l.status, l.reason, l.reason_detail, left(l.charge_start, 10) AS charge_start,
            l.raw::jsonb ->> 'OfferName' AS product, l.product_ref AS product_id, l.raw::jsonb ->> 'Quantity' AS quantity,
            l.sub_total::text, l.raw::jsonb ->> 'Currency' AS currency, coalesce(c.service_id, l.service_id) AS service_id, c.charge::text AS charge
       ${GROUP_LINES}
      ORDER BY (l.status = 'QUARANTINED') DESC, l.id OFFSET $2 LIMIT $3`,
    [groupKey, page.offset, page.limit],
  );
  return res.rows;
}

export interface ServiceChoice {
  id: string;
  tenant_domain: string | null;
  customer_name: string | null;
  cancelled_on: string | null;
}

export async function providerServices(db: Queryable, providerId: string): Promise<ServiceChoice[]> {
  const res = await db.query<ServiceChoice>(
    `SELECT id, tenant_domain, customer_name, to_char(cancelled_on, 'YYYY-MM-DD') AS cancelled_on FROM service WHERE provider_id = $1 ORDER BY customer_name, id`,
    [providerId],
  );
  return res.rows;
}

export interface TenantRow {
  id: string;
  provider_id: string;
  tenant_id: string;
  tenant_domain: string | null;
  customer_name: string | null;
  cancelled_on: string | null;
  gone_at_carrier_since: Date | null;
  licences: number;
  seats: number;
}

const TENANT_WHERE = `($1::text IS NULL OR s.provider_id = $1) AND ($2::text IS NULL OR s.id ILIKE $2 OR s.tenant_id ILIKE $2 OR s.tenant_domain ILIKE $2 OR s.customer_name ILIKE $2)`;
const like = (q: string | null) => (q ? `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null);

export async function countTenants(db: Queryable, providerId: string | null, q: string | null): Promise<number> {
  return (
    await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM service s WHERE ${TENANT_WHERE}`, [
      providerId,
      like(q),
    ])
  ).rows[0]!.n;
}

export async function searchTenants(
  db: Queryable,
  providerId: string | null,
  q: string | null,
  page: Paging,
): Promise<TenantRow[]> {
  const res = await db.query<TenantRow>(
    `SELECT s.id, s.provider_id, s.tenant_id, s.tenant_domain, s.customer_name, to_char(s.cancelled_on, 'YYYY-MM-DD') AS cancelled_on, s.gone_at_carrier_since,
            count(l.subscription_id)::int AS licences, coalesce(sum(l.quantity), 0)::int AS seats
       FROM service s LEFT JOIN licence l ON l.provider_id = s.provider_id AND l.tenant_id = s.tenant_id
      WHERE ${TENANT_WHERE}
      GROUP BY s.id ORDER BY s.customer_name NULLS LAST, s.id OFFSET $3 LIMIT $4`,
    [providerId, like(q), page.offset, page.limit],
  );
  return res.rows;
}
