import type { Pool, PoolClient } from './pool';
import { inTransaction } from './pool';
import { contentHash, rawRecordId, rawText } from '../core/usage-record';
import { jsonNumberToDecimal, parseLosslessJson, stringifyLossless } from '../core/lossless';
import { decimalText, formatMoney } from '../core/money';
import { mediate, type Mediated, type QuarantineReason } from '../core/rating';
import { isGuid, normalizeGuid } from '../core/guid';
import { loadBillingContext } from './mediation-context';
import { quarantineGroupKey } from '../core/quarantine-group';

/** The quarantine group of a line: the rule (provider + reason + tenant identifier) is in core/. */
export const groupKeyOf = quarantineGroupKey;

export interface PageInsert {
  inserted: number;
  repeats: number;
  /** The rows this page added, with their parsed records, ready to mediate without a re-read. */
  newLines: LoadedLine[];
}

/**
 * Persists one page exactly as received, in one statement. An exact repeat of a known line
 * (same RecordId, same content) adds no row, so a retried or repeated page changes nothing.
 */
export async function insertUsagePage(db: Pool | PoolClient, providerId: string, cycleId: string, records: unknown[]): Promise<PageInsert> {
  // One JSON parameter (encoded natively by V8) rather than seven arrays escaped element by element.
  const rows = records.map((record) => {
    const subTotal = record && typeof record === 'object' ? jsonNumberToDecimal((record as Record<string, unknown>).SubTotal) : null;
    return {
      record_key: rawRecordId(record) ?? '',
      content_hash: contentHash(record),
      raw: stringifyLossless(record),
      tenant_ref: refOf(rawText(record, 'TenantId')),
      product_ref: refOf(rawText(record, 'ProductId')),
      charge_start: rawText(record, 'ChargeStartDate'),
      sub_total: subTotal ? decimalText(subTotal) : null,
    };
  });
  const res = await db.query<{ id: number; record_key: string; content_hash: string; tenant_ref: string | null }>(
    `INSERT INTO usage_line (provider_id, first_cycle_id, record_key, content_hash, raw, tenant_ref, product_ref, charge_start, sub_total)
     SELECT $1, $2, t.record_key, t.content_hash, t.raw, t.tenant_ref, t.product_ref, t.charge_start, t.sub_total
       FROM json_to_recordset($3::json)
         AS t(record_key text, content_hash text, raw text, tenant_ref text, product_ref text, charge_start text, sub_total numeric)
     ON CONFLICT (provider_id, record_key, content_hash) DO NOTHING
     RETURNING id, record_key, content_hash, tenant_ref`,
    [providerId, cycleId, JSON.stringify(rows)],
  );
  const byKey = new Map<string, unknown>();
  records.forEach((r, i) => byKey.set(`${rows[i]!.record_key}|${rows[i]!.content_hash}`, r));
  const newLines = res.rows.map((r) => ({ ...r, record: byKey.get(`${r.record_key}|${r.content_hash}`) }));
  return { inserted: res.rows.length, repeats: records.length - res.rows.length, newLines };
}

function refOf(v: string | null): string | null {
  if (v === null) return null;
  const t = v.trim().slice(0, 200);
  return isGuid(t) ? normalizeGuid(t) : t || null;
}

/** Counts only: the lines themselves stay in the database (group workflows are told from there). */
export interface MediationResult {
  processed: number;
  billed: number;
  quarantined: Partial<Record<QuarantineReason, number>>;
}

export interface MediationSelection {
  providerId: string;
  /** Recorded on each line and charge: the cycle or quarantine action that mediated it. */
  mediatedBy: string;
  limit: number;
  /** 'pending': NEW lines of the provider; or the CLEANSED lines of one quarantine group. */
  source: { kind: 'pending' } | { kind: 'group'; groupKey: string };
  /** An admin's allocation: identify every line as this service. */
  forceServiceId?: string;
}

interface LineRow {
  id: number;
  record_key: string;
  content_hash: string;
  raw: string;
  tenant_ref: string | null;
}

/** A stored line with its record already parsed (losslessly). */
export interface LoadedLine {
  id: number;
  record_key: string;
  content_hash: string;
  tenant_ref: string | null;
  record: unknown;
}

/**
 * Identify → bucket → rate a batch, in one transaction: charges land in the misc usage bucket,
 * failures go to quarantine whole, with their reason. Lines are locked (SKIP LOCKED), so
 * overlapping cycles never mediate the same line; the charge table's UNIQUE (provider, RecordId)
 * refuses a second bill for a RecordId whatever happens above it.
 */
export async function mediateBatch(pool: Pool, sel: MediationSelection): Promise<MediationResult> {
  return inTransaction(pool, async (db) => {
    const lines =
      sel.source.kind === 'pending'
        ? await db.query<LineRow>(
            `SELECT id, record_key, content_hash, raw, tenant_ref FROM usage_line
              WHERE provider_id = $1 AND status = 'NEW' ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
            [sel.providerId, sel.limit],
          )
        : await db.query<LineRow>(
            `SELECT id, record_key, content_hash, raw, tenant_ref FROM usage_line
              WHERE provider_id = $1 AND status = 'CLEANSED' AND group_key = $2 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
            [sel.providerId, sel.source.groupKey, sel.limit],
          );
    return mediateLocked(db, sel, lines.rows.map((l) => ({ ...l, record: parseLosslessJson(l.raw) })));
  });
}

/**
 * Mediates lines a page has just stored, from the records already in memory (no second parse).
 * A line another mediation took meanwhile (an overlapping cycle's sweep) is left to it.
 */
export async function mediateNewLines(pool: Pool, providerId: string, mediatedBy: string, lines: LoadedLine[]): Promise<MediationResult> {
  return inTransaction(pool, (db) => mediateLocked(db, { providerId, mediatedBy, limit: lines.length, source: { kind: 'pending' } }, lines));
}

async function mediateLocked(db: PoolClient, sel: MediationSelection, rows: LoadedLine[]): Promise<MediationResult> {
  const lines = { rows: [...rows].sort((a, b) => a.id - b.id) };
  const result: MediationResult = { processed: 0, billed: 0, quarantined: {} };
  if (lines.rows.length === 0) return result;

  const ctx = await loadBillingContext(db, sel.providerId);
  const earlier = await earlierVersions(db, sel.providerId, lines.rows);
  const outcomes = new Map<number, Mediated>();
  for (const line of lines.rows) {
    const outcome = mediate(
      line.record,
      {
        card: ctx.card,
        services: ctx.services,
        allocatedTenants: ctx.allocatedTenants,
        forceServiceId: sel.forceServiceId,
        // Exact repeats never get a row, so an earlier valid row with this RecordId means a revision.
        seen: () => ((earlier.get(line.record_key) ?? []).some((e) => e.id < line.id && !e.invalid) ? 'REVISED' : 'NEW'),
      },
      line.content_hash,
    );
    if (outcome.status === 'QUARANTINED' && outcome.reason === 'INVALID_RECORD') {
      for (const e of earlier.get(line.record_key) ?? []) if (e.id === line.id) e.invalid = true;
    }
    outcomes.set(line.id, outcome);
  }

  // Outcomes first, claiming each line only if it is still in the state we read it in (NEW, or
  // CLEANSED for a group): a line another mediation took meanwhile is not touched twice.
  const expected = sel.source.kind === 'pending' ? 'NEW' : 'CLEANSED';
  const u = { id: [] as number[], status: [] as string[], reason: [] as (string | null)[], detail: [] as (string | null)[], svc: [] as (string | null)[], group: [] as (string | null)[] };
  const groupOf = (line: LoadedLine, o: Extract<Mediated, { status: 'QUARANTINED' }>) => groupKeyOf(sel.providerId, o.reason, o.record?.tenantId ?? line.tenant_ref);
  for (const line of lines.rows) {
    const o = outcomes.get(line.id)!;
    u.id.push(line.id);
    if (o.status === 'COMPLETED') {
      u.status.push('COMPLETED'); u.reason.push(null); u.detail.push(null); u.svc.push(o.serviceId); u.group.push(null);
    } else if (o.status === 'QUARANTINED') {
      u.status.push('QUARANTINED'); u.reason.push(o.reason); u.detail.push(o.detail); u.svc.push(o.serviceId); u.group.push(groupOf(line, o));
    } else {
      u.status.push('DUPLICATE'); u.reason.push(null); u.detail.push('exact repeat of a line already received'); u.svc.push(null); u.group.push(null);
    }
  }
  const claimed = await db.query<{ id: number }>(
    `UPDATE usage_line AS l
        SET status = v.status, reason = v.reason, reason_detail = v.detail, service_id = v.svc, group_key = v.grp,
            mediated_cycle_id = $1, updated_at = now()
       FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS v(id, status, reason, detail, svc, grp)
      WHERE l.id = v.id AND l.status = $8
      RETURNING l.id`,
    [sel.mediatedBy, u.id, u.status, u.reason, u.detail, u.svc, u.group, expected],
  );
  const claimedIds = new Set(claimed.rows.map((r) => r.id));

  // Charges for the claimed billable lines. UNIQUE (provider, RecordId) refuses a second bill.
  const billable = lines.rows.filter((l) => claimedIds.has(l.id) && outcomes.get(l.id)!.status === 'COMPLETED');
  const chargedIds = new Set<number>();
  if (billable.length > 0) {
    // One JSON parameter rather than sixteen arrays: far cheaper to encode and to decode. Amounts
    // travel as strings and become numeric in PostgreSQL, exact.
    const rows = billable.map((l) => {
      const o = outcomes.get(l.id) as Extract<Mediated, { status: 'COMPLETED' }>;
      return {
        line: l.id, key: l.record_key, svc: o.serviceId, period: o.period, product: o.productKey,
        units: decimalText(o.record.quantity), rate: decimalText(o.record.unitPrice), ratio: decimalText(o.record.billableRatio),
        cost: formatMoney(o.rated.cost), charge: formatMoney(o.rated.charge), margin: formatMoney(o.rated.margin),
        kind: o.rated.ruleKind, start: o.record.chargeStart.text, end_: o.record.chargeEnd.text,
      };
    });
    const inserted = await db.query<{ usage_line_id: number }>(
      `INSERT INTO usage_charge (usage_line_id, provider_id, cycle_id, record_key, service_id, billing_period, product_key, units, unit_rate,
                                 billable_ratio, carrier_cost, charge, margin, rule_kind, charge_start, charge_end)
       SELECT t.line, $1, $2, t.key, t.svc, t.period, t.product, t.units, t.rate, t.ratio, t.cost, t.charge, t.margin, t.kind, t.start, t.end_
         FROM json_to_recordset($3::json) AS t(line bigint, key text, svc text, period text, product text, units numeric, rate numeric,
                                               ratio numeric, cost numeric, charge numeric, margin numeric, kind text, start text, end_ text)
       ON CONFLICT DO NOTHING
       RETURNING usage_line_id`,
      [sel.providerId, sel.mediatedBy, JSON.stringify(rows)],
    );
    for (const r of inserted.rows) chargedIds.add(r.usage_line_id);
    // A RecordId billed already (a concurrent revision got there first): quarantine, never bill twice.
    for (const l of billable) {
      if (chargedIds.has(l.id)) continue;
      const o = outcomes.get(l.id) as Extract<Mediated, { status: 'COMPLETED' }>;
      const dup = { status: 'QUARANTINED', reason: 'DUPLICATE_USAGE', detail: `RecordId ${l.record_key} is already billed`, record: o.record, serviceId: null } as const;
      outcomes.set(l.id, dup);
      await db.query(`UPDATE usage_line SET status = 'QUARANTINED', reason = 'DUPLICATE_USAGE', reason_detail = $2, service_id = NULL, group_key = $3 WHERE id = $1`, [
        l.id, dup.detail, groupOf(l, dup),
      ]);
    }
  }

  for (const line of lines.rows) {
    if (!claimedIds.has(line.id)) continue;
    const o = outcomes.get(line.id)!;
    result.processed++;
    if (o.status === 'COMPLETED') result.billed++;
    else if (o.status === 'QUARANTINED') result.quarantined[o.reason] = (result.quarantined[o.reason] ?? 0) + 1;
  }
  return result;
}

/** Other rows with the same RecordIds as the batch, with whether each was invalid. */
async function earlierVersions(db: PoolClient, providerId: string, lines: LoadedLine[]): Promise<Map<string, Array<{ id: number; invalid: boolean }>>> {
  const keys = [...new Set(lines.map((l) => l.record_key).filter((k) => k !== ''))];
  const map = new Map<string, Array<{ id: number; invalid: boolean }>>();
  if (keys.length === 0) return map;
  const rows = await db.query<{ id: number; record_key: string; reason: string | null; status: string }>(
    `SELECT id, record_key, reason, status FROM usage_line WHERE provider_id = $1 AND record_key = ANY($2::text[])`,
    [providerId, keys],
  );
  for (const r of rows.rows) {
    const list = map.get(r.record_key) ?? [];
    list.push({ id: r.id, invalid: r.reason === 'INVALID_RECORD' });
    map.set(r.record_key, list);
  }
  return map;
}
