/**
 * Mediation runs: read what is known (db/), decide identify → bucket → rate (core/), store the
 * outcomes (db/), each run in one transaction. The usage cycle's pipelined page saving is in
 * activities/usage.ts; these serve the batch paths (an invoice's lines the feed never sent, a
 * quarantine group's cleansed lines, the sweep of NEW lines).
 */
import { inTransaction, type Pool, type PoolClient } from '../db/pool';
import { parseNumberPreserving } from '../lib/fast-json';
import { stringifyLossless } from '../lib/lossless';
import { decideBatch, lineFacts, type BatchContext, type Decision, type KnownVersion } from '../core/mediation';
import { Decimal } from '../core/money';
import { quarantinedLinesToMediate } from '../db/quarantined-lines';
import { loadBillingContext, type ProviderBillingContext } from '../db/mediation-context';
import {
  knownVersions,
  pickLinesToMediate,
  saveOutcomes,
  savePage,
  type MediationResult,
  type MediationSelection,
  type ReceivedLine,
  type SavedPage,
  type StoredLine,
  type StoredLineRow,
} from '../db/usage-lines';

/** Lines from their exact texts and parsed records (a carrier page, or a file of records). */
export function receivedLines(records: readonly unknown[], texts: readonly string[]): ReceivedLine[] {
  return records.map((record, i) => {
    // Built in place (no spread copy): a page makes a thousand of these.
    const line = lineFacts(record, texts[i]!) as ReceivedLine;
    line.raw = texts[i]!;
    line.record = record;
    return line;
  });
}

const NO_VERSIONS: readonly KnownVersion[] = Object.freeze([]);

/** What deciding a batch needs: the provider's rate card and services, and the RecordIds' stored versions. */
export function batchContext(
  billing: ProviderBillingContext,
  known: Map<string, KnownVersion[]>,
  forceServiceId?: string,
): BatchContext {
  return {
    card: billing.card,
    services: billing.services,
    allocatedTenants: billing.allocatedTenants,
    forceServiceId,
    known: (key) => known.get(key) ?? NO_VERSIONS,
    parse: (raw) => parseNumberPreserving(raw, null).value,
  };
}

/**
 * Decides and stores one batch of records in one transaction, without the cycle's pipelining or
 * resume point: an invoice's lines the feed never sent, the tests. `texts` are the records'
 * texts as received (their lossless serialisation when they were not received as text).
 */
export async function mediatePage(
  pool: Pool,
  providerId: string,
  source: { receivedBy: string; mediatedBy: string },
  records: readonly unknown[],
  texts: readonly string[] = records.map(stringifyLossless),
): Promise<SavedPage> {
  const lines = receivedLines(records, texts);
  const billing = await loadBillingContext(pool, providerId);
  const decisions = decideBatch(lines, batchContext(billing, await knownVersions(pool, providerId, lines)));
  return inTransaction(pool, (db) =>
    savePage(
      db,
      providerId,
      source,
      lines.map((l, i) => ({ ...l, decision: decisions[i]! })),
    ),
  );
}

/**
 * Identify → bucket → rate a batch of stored lines, in one transaction: charges land in the misc
 * usage bucket, failures go to quarantine whole, with their reason. Lines are locked (SKIP
 * LOCKED), so overlapping mediations never take the same line; the charge table's UNIQUE
 * (provider, RecordId) refuses a second bill for a RecordId whatever happens above it.
 */
export async function mediateBatch(pool: Pool, sel: MediationSelection): Promise<MediationResult> {
  return inTransaction(pool, async (db) => {
    const lines = (await pickLinesToMediate(db, sel)).map(storedLine);
    if (lines.length === 0) return { processed: 0, billed: 0, quarantined: {} };
    const decisions = await decideStoredLines(db, sel.providerId, lines, sel.forceServiceId);
    return saveOutcomes(db, sel, lines, decisions);
  });
}

function storedLine(r: StoredLineRow): StoredLine {
  const record = parseNumberPreserving(r.raw, null).value;
  return {
    ...lineFacts(record, r.raw),
    id: r.id,
    recordKey: r.record_key,
    contentHash: r.content_hash,
    raw: r.raw,
    record,
    tenantRef: r.tenant_ref,
  };
}

/** Decides stored lines under the provider's rate card and services as they are now; writes nothing. */
async function decideStoredLines(
  db: Pool | PoolClient,
  providerId: string,
  lines: StoredLine[],
  forceServiceId: string | undefined,
): Promise<Decision[]> {
  const billing = await loadBillingContext(db, providerId);
  const known = await knownVersions(db, providerId, lines);
  // A stored line is judged against the versions stored before it, never itself or later ones.
  return lines.map((line) => {
    const versions = known.get(line.recordKey) ?? [];
    const earlier = new Map([[line.recordKey, versions.filter((v) => v.id < line.id)]]);
    const d = decideBatch([line], batchContext(billing, earlier, forceServiceId))[0]!;
    // Decided invalid now: it no longer makes later lines of this batch revisions.
    const own = versions.find((v) => v.id === line.id);
    if (own) own.invalid = d.status === 'QUARANTINED' && d.reason === 'INVALID_RECORD';
    return d;
  });
}

/** What allocating a group to a service would bill now: the lines charged, and those that would stay quarantined. */
export interface AllocationPreview {
  billed: number;
  /** Exact sums of the lines' charges and carrier costs, as the allocation would store them. */
  charge: Decimal;
  cost: Decimal;
  /** The lines that would not be billed, by reason and why (most first). */
  stay: Array<{ reason: string; detail: string; lines: number }>;
}

/**
 * An allocation of the group's quarantined lines to `serviceId`, decided as the allocation's
 * re-mediation decides them (the same rules, rate card and services), without writing anything.
 */
export async function previewAllocation(
  pool: Pool,
  providerId: string,
  groupKey: string,
  serviceId: string,
): Promise<AllocationPreview> {
  const lines = (await quarantinedLinesToMediate(pool, groupKey)).map(storedLine);
  const decisions = await decideStoredLines(pool, providerId, lines, serviceId);
  const preview: AllocationPreview = { billed: 0, charge: new Decimal(0), cost: new Decimal(0), stay: [] };
  const stay = new Map<string, { reason: string; detail: string; lines: number }>();
  for (const d of decisions) {
    if (d.status === 'COMPLETED') {
      preview.billed++;
      preview.charge = preview.charge.plus(d.rated.charge);
      preview.cost = preview.cost.plus(d.rated.cost);
      continue;
    }
    const [reason, detail] = d.status === 'QUARANTINED' ? [d.reason, d.detail] : ['REPEAT', d.detail];
    const entry = stay.get(`${reason}|${detail}`) ?? { reason, detail, lines: 0 };
    entry.lines++;
    stay.set(`${reason}|${detail}`, entry);
  }
  preview.stay = [...stay.values()].sort((a, b) => b.lines - a.lines || a.detail.localeCompare(b.detail));
  return preview;
}
