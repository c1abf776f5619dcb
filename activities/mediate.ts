/**
 * Mediation runs: read what is known (db/), decide identify → bucket → rate (core/), store the
 * outcomes (db/), each run in one transaction. The usage cycle's pipelined page saving is in
 * activities/usage.ts; these serve the batch paths (an invoice's lines the feed never sent, a
 * quarantine group's cleansed lines, the sweep of NEW lines).
 */
import { inTransaction, type Pool } from '../db/pool';
import { parseNumberPreserving } from '../lib/fast-json';
import { stringifyLossless } from '../lib/lossless';
import { decideBatch, lineFacts, type BatchContext, type KnownVersion } from '../core/mediation';
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
    const lines: StoredLine[] = (await pickLinesToMediate(db, sel)).map((r) => {
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
    });
    if (lines.length === 0) return { processed: 0, billed: 0, quarantined: {} };
    const billing = await loadBillingContext(db, sel.providerId);
    const known = await knownVersions(db, sel.providerId, lines);
    // A stored line is judged against the versions stored before it, never itself or later ones.
    const decisions = lines.map((line) => {
      const versions = known.get(line.recordKey) ?? [];
      const earlier = new Map([[line.recordKey, versions.filter((v) => v.id < line.id)]]);
      const d = decideBatch([line], batchContext(billing, earlier, sel.forceServiceId))[0]!;
      // Decided invalid now: it no longer makes later lines of this batch revisions.
      const own = versions.find((v) => v.id === line.id);
      if (own) own.invalid = d.status === 'QUARANTINED' && d.reason === 'INVALID_RECORD';
      return d;
    });
    return saveOutcomes(db, sel, lines, decisions);
  });
}
