import type { Pool, PoolClient } from './pool';
import { copyRows } from './copy';
import {
  chargeColumns,
  CHARGE_COPY_COLUMNS,
  encodePage,
  fillIds,
  LINE_COPY_COLUMNS,
  type EncodedPage,
} from './usage-rows';
import type { QuarantineReason } from '../core/rating';
import { REPEAT_DETAIL, type Decision, type KnownVersion, type LineFacts } from '../core/mediation';
import { quarantineGroupKey } from '../core/quarantine-group';
import type { Turn } from '../lib/concurrency';

type Queryable = Pool | PoolClient;

/** Counts only: the lines themselves stay in the database (group workflows are told from there). */
export interface MediationResult {
  processed: number;
  billed: number;
  quarantined: Partial<Record<QuarantineReason, number>>;
}

/** A line as the carrier sent it: its exact text, the record parsed from it, and what is stored beside it. */
export interface ReceivedLine extends LineFacts {
  raw: string;
  record: unknown;
}

// ---------------------------------------------------------------------------------------------
// What is known before deciding

/**
 * Every stored version of the RecordIds of `lines` (ids ascending). The stored text comes along
 * only where it may be needed: a version whose hash differs from an incoming line's of its RecordId.
 */
export async function knownVersions(
  db: Queryable,
  providerId: string,
  lines: readonly Pick<LineFacts, 'recordKey' | 'contentHash'>[],
): Promise<Map<string, Array<KnownVersion & { id: number }>>> {
  const incoming = new Map<string, string[]>();
  for (const l of lines) {
    if (l.recordKey === '') continue;
    const hashes = incoming.get(l.recordKey);
    if (hashes) hashes.push(l.contentHash);
    else incoming.set(l.recordKey, [l.contentHash]);
  }
  const map = new Map<string, Array<KnownVersion & { id: number }>>();
  if (incoming.size === 0) return map;
  // One index scan for the whole page's RecordIds (PostgreSQL 17 walks the sorted array through
  // the index): a quarter less time than a probe per line, half of them stored, in a million lines.
  const rows = await db.query<{ id: number; record_key: string; content_hash: string; invalid: boolean }>({
    name: 'usage-known-versions',
    text: `SELECT id, record_key, content_hash, coalesce(reason = 'INVALID_RECORD', false) AS invalid
             FROM usage_line WHERE provider_id = $1 AND record_key = ANY($2::text[])
            ORDER BY id`,
    values: [providerId, [...incoming.keys()]],
  });
  const needText: number[] = [];
  const byId = new Map<number, KnownVersion & { id: number }>();
  for (const r of rows.rows) {
    const v = { id: r.id, contentHash: r.content_hash, invalid: r.invalid, raw: null as string | null };
    byId.set(r.id, v);
    if (incoming.get(r.record_key)!.some((h) => h !== r.content_hash)) needText.push(r.id);
    const list = map.get(r.record_key);
    if (list) list.push(v);
    else map.set(r.record_key, [v]);
  }
  if (needText.length > 0) {
    const texts = await db.query<{ id: number; raw: string }>({
      name: 'usage-known-version-texts',
      text: 'SELECT id, raw FROM usage_line WHERE id = ANY($1::bigint[])',
      values: [needText],
    });
    for (const t of texts.rows) byId.get(t.id)!.raw = t.raw;
  }
  return map;
}

// ---------------------------------------------------------------------------------------------
// Saving a page: each line written once, with its outcome

export interface SavedPage extends MediationResult {
  /** Lines stored (the rest were repeats of lines stored before). */
  inserted: number;
  repeats: number;
}

/** A page's lines collided with lines stored meanwhile by another writer: deciding again sorts them out. */
export class ConcurrentSaveError extends Error {}

/**
 * Stores a decided page inside the caller's transaction: every line that is not a repeat, as
 * received, with its outcome, and a charge in the misc usage bucket for each billed line. A line
 * nobody stored before gets a row even when deciding it failed (`decision` null: it stays NEW for
 * the sweep): persisted first, whatever happens to its mediation. Exact repeats were decided as
 * such against what is stored (knownVersions) and are not written. See saveEncodedPage.
 */
export async function savePage(
  db: PoolClient,
  providerId: string,
  source: { receivedBy: string; mediatedBy: string },
  lines: ReadonlyArray<ReceivedLine & { decision: Decision | null }>,
  turn?: Turn,
): Promise<SavedPage> {
  let page: EncodedPage;
  try {
    page = encodePage({ providerId, ...source }, lines);
  } catch (err) {
    // A page that cannot be encoded must not hold up the next one's ids.
    turn?.release();
    throw err;
  }
  return saveEncodedPage(db, page, providerId, turn);
}

/**
 * Stores a page encoded as its rows (db/usage-rows.ts encodePage) inside the caller's transaction.
 *
 * The rows go in by COPY, straight into usage_line and usage_charge (ids drawn from the sequence
 * first, so charges name their lines): the cheapest way into PostgreSQL. The database still has
 * the last word: should another writer have stored one of these lines, or billed one of these
 * RecordIds, meanwhile (two cycles of one provider at once), UNIQUE refuses the page whole and
 * ConcurrentSaveError says so; the caller's retry decides the page again against what is stored
 * then, so nothing is stored or billed twice. Charges land in their month, or in the next open
 * one when it is closed (routed here, set-based; the table's statement check refuses a charge
 * in a closed month whoever writes it).
 *
 * Line ids are the order of receipt (a RecordId's latest revision is its highest id). Pages saved
 * at once, each in its own transaction, pass `turn` (lib/concurrency.ts orderedTurns, handed out
 * in page order): the page draws its ids only once the page before it has drawn its own, then lets
 * the next go; on any failure the turn is released too.
 */
export async function saveEncodedPage(
  db: PoolClient,
  page: EncodedPage,
  providerId: string,
  turn?: Turn,
): Promise<SavedPage> {
  try {
    return await saveInTurn(db, page, providerId, turn);
  } finally {
    turn?.release();
  }
}

async function saveInTurn(
  db: PoolClient,
  page: EncodedPage,
  providerId: string,
  turn: Turn | undefined,
): Promise<SavedPage> {
  if (page.lines.count === 0) return { inserted: 0, repeats: page.repeats, processed: 0, billed: 0, quarantined: {} };
  // Awaited before any lock is taken: a page waiting here holds nothing the page before it needs.
  if (turn) await turn.ready;
  // A month being closed waits for this page, or this page for the close (its SHARE lock): the
  // routing read next then sees every close committed before, and none can follow until commit.
  if (page.periods.size > 0) await db.query('LOCK TABLE usage_charge IN ROW EXCLUSIVE MODE');
  // One round trip: ids for the lines, where each month's charges are billed, and the marker that
  // this transaction routes its own charges (so the per-row routing trigger stands aside).
  const prepared = await db.query<{ ids: string; routes: Record<string, string> | null }>({
    name: 'usage-save-prepare',
    text: `SELECT set_config('csp.charge_periods_routed', 'on', true) AS routed,
                  (SELECT string_agg(nextval('usage_line_id_seq')::text, ',') FROM generate_series(1, $1::int)) AS ids,
                  (SELECT json_object_agg(p, open_billing_period_from($2, p)) FROM unnest($3::text[]) AS p) AS routes`,
    values: [page.lines.count, providerId, [...page.periods]],
  });
  turn?.release();
  fillIds(page, prepared.rows[0]!.ids, prepared.rows[0]!.routes ?? {});
  try {
    await copyRows(db, 'usage_line', LINE_COPY_COLUMNS, page.lines);
    if (page.charges.count > 0) await copyRows(db, 'usage_charge', CHARGE_COPY_COLUMNS, page.charges);
  } catch (err) {
    if ((err as { code?: string }).code === '23505') {
      throw new ConcurrentSaveError(
        `lines of this page were stored or billed meanwhile by another writer (${(err as Error).message}); deciding the page again`,
      );
    }
    throw err;
  }
  return {
    inserted: page.lines.count,
    repeats: page.repeats,
    processed: page.processed,
    billed: page.charges.count,
    quarantined: { ...page.quarantined },
  };
}

function count(result: MediationResult, reason: QuarantineReason): void {
  result.quarantined[reason] = (result.quarantined[reason] ?? 0) + 1;
}

/** A RecordId billed already (a concurrent revision got there first): quarantine, never bill twice. */
async function quarantineAsBilledAlready(
  db: PoolClient,
  providerId: string,
  id: number,
  recordKey: string,
  tenantRef: string | null,
): Promise<void> {
  await db.query(
    `UPDATE usage_line SET status = 'QUARANTINED', reason = 'DUPLICATE_USAGE', reason_detail = $2, service_id = NULL, group_key = $3, updated_at = now() WHERE id = $1`,
    [id, `RecordId ${recordKey} is already billed`, quarantineGroupKey(providerId, 'DUPLICATE_USAGE', tenantRef)],
  );
}

// ---------------------------------------------------------------------------------------------
// Re-mediating stored lines (the sweep of NEW lines, a quarantine group's CLEANSED lines)

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

/** A stored line as mediation reads it again: its id, exact text and what was worked out when it was stored. */
export interface StoredLineRow {
  id: number;
  record_key: string;
  content_hash: string;
  raw: string;
  tenant_ref: string | null;
}

/**
 * Locks and reads the lines a selection takes (SKIP LOCKED: overlapping mediations never take the
 * same line), inside the caller's transaction.
 */
export async function pickLinesToMediate(db: PoolClient, sel: MediationSelection): Promise<StoredLineRow[]> {
  const picked =
    sel.source.kind === 'pending'
      ? await db.query<StoredLineRow>(
          `SELECT id, record_key, content_hash, raw, tenant_ref FROM usage_line
            WHERE provider_id = $1 AND status = 'NEW' ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [sel.providerId, sel.limit],
        )
      : await db.query<StoredLineRow>(
          `SELECT id, record_key, content_hash, raw, tenant_ref FROM usage_line
            WHERE provider_id = $1 AND status = 'CLEANSED' AND group_key = $2 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
          [sel.providerId, sel.source.groupKey, sel.limit],
        );
  return picked.rows;
}

/** A stored line read again for mediation, with its facts worked out from its text. */
export interface StoredLine extends LineFacts {
  id: number;
  raw: string;
  record: unknown;
}

/**
 * Writes the decided outcomes of stored lines, claiming each only if it is still in the state it
 * was read in (NEW, or CLEANSED for a group), then the charges of the billed ones.
 */
export async function saveOutcomes(
  db: PoolClient,
  sel: MediationSelection,
  lines: StoredLine[],
  decisions: Decision[],
): Promise<MediationResult> {
  const result: MediationResult = { processed: 0, billed: 0, quarantined: {} };
  const expected = sel.source.kind === 'pending' ? 'NEW' : 'CLEANSED';
  const u = {
    id: [] as number[],
    status: [] as string[],
    reason: [] as (string | null)[],
    detail: [] as (string | null)[],
    svc: [] as (string | null)[],
    group: [] as (string | null)[],
  };
  lines.forEach((line, i) => {
    const d = decisions[i]!;
    u.id.push(line.id);
    if (d.status === 'COMPLETED') {
      u.status.push('COMPLETED');
      u.reason.push(null);
      u.detail.push(null);
      u.svc.push(d.serviceId);
      u.group.push(null);
    } else if (d.status === 'QUARANTINED') {
      u.status.push('QUARANTINED');
      u.reason.push(d.reason);
      u.detail.push(d.detail);
      u.svc.push(d.serviceId);
      u.group.push(quarantineGroupKey(sel.providerId, d.reason, d.record?.tenantId ?? line.tenantRef));
    } else {
      u.status.push('DUPLICATE');
      u.reason.push(null);
      u.detail.push(REPEAT_DETAIL);
      u.svc.push(null);
      u.group.push(null);
    }
  });
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

  const billable = lines.flatMap((line, i) => {
    const d = decisions[i]!;
    return claimedIds.has(line.id) && d.status === 'COMPLETED' ? [{ line, d }] : [];
  });
  const chargedIds = new Set<number>();
  if (billable.length > 0) {
    const rows = billable.map(({ line, d }) => ({
      line: line.id,
      key: line.recordKey,
      svc: d.serviceId,
      ...chargeColumns(d),
    }));
    const inserted = await db.query<{ usage_line_id: number }>(
      `INSERT INTO usage_charge (usage_line_id, provider_id, cycle_id, record_key, service_id, billing_period, product_key, units, unit_rate,
                                 billable_ratio, carrier_cost, charge, margin, rule_kind, charge_end, charge_start)
       SELECT t.line, $1, $2, t.key, t.svc, t.period, t.product, t.units, t.rate, t.ratio, t.cost, t.charge, t.margin, t.kind, t.end_, t.start
         FROM json_to_recordset($3::json) AS t(line bigint, key text, svc text, period text, product text, units numeric, rate numeric,
                                               ratio numeric, cost numeric, charge numeric, margin numeric, kind text, end_ text, start text)
       ON CONFLICT DO NOTHING
       RETURNING usage_line_id`,
      [sel.providerId, sel.mediatedBy, JSON.stringify(rows)],
    );
    for (const r of inserted.rows) chargedIds.add(r.usage_line_id);
  }
  for (const [i, line] of lines.entries()) {
    if (!claimedIds.has(line.id)) continue;
    const d = decisions[i]!;
    result.processed++;
    if (d.status === 'COMPLETED' && chargedIds.has(line.id)) result.billed++;
    else if (d.status === 'COMPLETED') {
      await quarantineAsBilledAlready(db, sel.providerId, line.id, line.recordKey, d.record.tenantId);
      count(result, 'DUPLICATE_USAGE');
    } else if (d.status === 'QUARANTINED') count(result, d.reason);
  }
  return result;
}
