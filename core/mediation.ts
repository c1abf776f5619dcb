import { hash } from 'node:crypto';
import { canonicalJson, jsonNumberToDecimal } from '../lib/lossless';
import { memoByText } from '../lib/memo';
import { isGuid, normalizeGuid } from './guid';
import { decimalText } from './money';
import { mediate, type Mediated, type MediationContext } from './rating';
import { rawRecordId, rawText } from './usage-record';

/**
 * Deciding a batch of usage lines, with no I/O: what happens to each line given what is already
 * known about its RecordId and the provider's services, allocations and rate card. The usage
 * cycle decides each carrier page with this before saving it; re-mediation (the sweep of lines
 * left undecided, a quarantine group's cleanse or allocation) decides stored lines with it.
 */

/** One line of a batch. Batches are in arrival order: a line earlier in the batch came first. */
export interface BatchLine {
  /** The RecordId as stored ('' when the record has none): see lineFacts. */
  recordKey: string;
  /** Hash of the line's text exactly as received: the same bytes again are the same line. */
  contentHash: string;
  /** The record, parsed losslessly (numbers as LosslessNumber). */
  record: unknown;
}

/** A stored version of a RecordId, received before the batch's line. */
export interface KnownVersion {
  contentHash: string;
  /** Quarantined as INVALID_RECORD: an invalid line never makes a later one a revision. */
  invalid: boolean;
  /** Its stored text, compared as content (numbers as decimals) when the hashes differ; null when they do not. */
  raw: string | null;
}

export type Decision =
  /** Same content as a line already received (every field equal, numbers as decimals): never billed again. */
  { status: 'REPEAT'; detail: string } | Exclude<Mediated, { status: 'DUPLICATE' }>;

export interface BatchContext extends Omit<MediationContext, 'seen'> {
  /** Earlier stored versions of a RecordId (the batch's own lines excluded). */
  known(recordKey: string): readonly KnownVersion[];
  /** Parses a stored line's text losslessly (given, so this module needs no parser choice). */
  parse(raw: string): unknown;
}

export const REPEAT_DETAIL = 'exact repeat of a line already received';

/**
 * The revision rule, for a whole batch: a line whose RecordId was received before with the same
 * content is a REPEAT; with other content, and the earlier version was valid, a revision
 * (DUPLICATE_USAGE); otherwise it goes through identify → bucket → rate (core/rating.ts). Earlier
 * lines of the same batch count as received before the later ones.
 */
export function decideBatch(lines: readonly BatchLine[], ctx: BatchContext): Decision[] {
  return lines.map(batchDecider(ctx));
}

/**
 * The versions a decided page adds for the pages decided after it: each line it stores, as
 * received (exact repeats are not stored; a line without a RecordId is nobody's version).
 */
export function versionsOf(
  decided: ReadonlyArray<Pick<LineFacts, 'recordKey' | 'contentHash'> & { raw: string; decision: Decision | null }>,
): Array<[string, KnownVersion]> {
  const versions: Array<[string, KnownVersion]> = [];
  for (const l of decided) {
    if (l.decision?.status === 'REPEAT' || l.recordKey === '') continue;
    const invalid = l.decision?.status === 'QUARANTINED' && l.decision.reason === 'INVALID_RECORD';
    versions.push([l.recordKey, { contentHash: l.contentHash, invalid, raw: l.raw }]);
  }
  return versions;
}

/** Adds versions (versionsOf) to what is known of their RecordIds. */
export function addVersions(known: Map<string, KnownVersion[]>, versions: Iterable<[string, KnownVersion]>): void {
  for (const [recordKey, version] of versions) {
    const list = known.get(recordKey);
    if (list) list.push(version);
    else known.set(recordKey, [version]);
  }
}

/**
 * decideBatch one line at a time, for a caller that must interleave other work (the usage cycle
 * lets the previous page's save make progress between slices of a page). Lines must be given in
 * batch order; each one counts as received before the ones given after it.
 */
export function batchDecider(ctx: BatchContext): (line: BatchLine) => Decision {
  const inBatch = new Map<string, BatchVersion[]>();
  const canonicalOfText = new Map<string, string>();
  const canonicalStored = (raw: string) => {
    let c = canonicalOfText.get(raw);
    if (c === undefined) canonicalOfText.set(raw, (c = canonicalJson(ctx.parse(raw))));
    return c;
  };
  const seenNew = { ...ctx, seen: () => 'NEW' as const };
  const seenRevised = { ...ctx, seen: () => 'REVISED' as const };
  return (line) => {
    const stored = ctx.known(line.recordKey);
    const batch = inBatch.get(line.recordKey);
    // Its canonical text is computed only if a hash differs (rare): see canonicalOf.
    const self: BatchVersion = {
      contentHash: line.contentHash,
      invalid: false,
      record: line.record,
      canonical: undefined,
    };
    const repeat =
      stored.some(
        (v) => v.contentHash === line.contentHash || (v.raw !== null && canonicalStored(v.raw) === canonicalOf(self)),
      ) ||
      (batch !== undefined &&
        batch.some((v) => v.contentHash === line.contentHash || canonicalOf(v) === canonicalOf(self)));
    if (repeat) return { status: 'REPEAT', detail: REPEAT_DETAIL } as const;
    const revised =
      line.recordKey !== '' &&
      (stored.some((v) => !v.invalid) || (batch !== undefined && batch.some((v) => !v.invalid)));
    const decision = mediate(line.record, revised ? seenRevised : seenNew, line.contentHash) as Decision;
    self.invalid = decision.status === 'QUARANTINED' && decision.reason === 'INVALID_RECORD';
    if (batch) batch.push(self);
    else inBatch.set(line.recordKey, [self]);
    return decision;
  };
}

/** A line decided earlier in the same batch. */
interface BatchVersion {
  contentHash: string;
  invalid: boolean;
  record: unknown;
  canonical: string | undefined;
}

// A module-level function, not a closure per line: a line makes no function objects.
function canonicalOf(v: BatchVersion): string {
  return (v.canonical ??= canonicalJson(v.record));
}

/** What is stored beside a line's raw text, read from the record before any validation. */
export interface LineFacts {
  recordKey: string;
  contentHash: string;
  tenantRef: string | null;
  productRef: string | null;
  chargeStart: string | null;
  /** SubTotal as an exact decimal text, when it is a usable number. */
  subTotal: string | null;
}

/** The hash of a line's exact text (the carrier's bytes, as UTF-16 code units hashed as UTF-8). */
export function textHash(text: string): string {
  // One-shot: a hash object per line cost more than the hashing.
  return hash('sha256', text, 'hex');
}

export function lineFacts(record: unknown, text: string): LineFacts {
  return {
    recordKey: rawRecordId(record) ?? '',
    contentHash: textHash(text),
    tenantRef: refOf(rawText(record, 'TenantId')),
    productRef: refOf(rawText(record, 'ProductId')),
    chargeStart: rawText(record, 'ChargeStartDate'),
    subTotal: numberText(record, 'SubTotal'),
  };
}

/**
 * A numeric field's exact decimal text (one normal form), when it is a usable JSON number: the
 * same text the charge columns write (decimalText of the shared instance, memoised per instance).
 */
function numberText(record: unknown, field: string): string | null {
  const v = record !== null && typeof record === 'object' ? (record as Record<string, unknown>)[field] : undefined;
  const d = jsonNumberToDecimal(v);
  return d ? decimalText(d) : null;
}

/** A tenant or product reference for grouping and display: GUIDs in their one normal form. */
function refOf(v: string | null): string | null {
  return v === null ? null : refOfText(v);
}

const refOfText = memoByText((v: string) => {
  const t = v.trim().slice(0, 200);
  return isGuid(t) ? normalizeGuid(t) : t || null;
});
