import { createHash } from 'node:crypto';
import type { Decimal } from './money';
import { isGuid, normalizeGuid } from './guid';
import { canonicalJson, jsonNumberToDecimal } from './lossless';
import { compareInstants, parseCarrierInstant, type CarrierInstant } from './iso-date';

/** A usage line that passed validation, with exact decimals and normalised GUIDs. */
export interface UsageRecord {
  recordId: string;
  tenantId: string;
  productId: string;
  subscriptionId: string | null;
  chargeStart: CarrierInstant;
  chargeEnd: CarrierInstant;
  unitPrice: Decimal;
  unitPriceRrp: Decimal | null;
  quantity: Decimal;
  billableRatio: Decimal;
  subTotal: Decimal;
  currency: string;
}

export type RecordValidation = { ok: true; record: UsageRecord } | { ok: false; problem: string };

const REQUIRED = [
  'RecordId', 'TenantId', 'ProductId', 'ChargeStartDate', 'ChargeEndDate',
  'UnitPrice', 'Quantity', 'BillableRatio', 'SubTotal', 'Currency',
] as const;

/** The INVALID_RECORD rules of domain.md, in one place. `problem` names the field and what is wrong. */
export function validateUsageRecord(raw: unknown): RecordValidation {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, problem: 'record is not a JSON object' };
  const r = raw as Record<string, unknown>;
  for (const field of REQUIRED) {
    if (r[field] === undefined || r[field] === null) return { ok: false, problem: `${field} is missing or null` };
  }
  if (typeof r.RecordId !== 'string' && !isJsonNumberLike(r.RecordId)) return { ok: false, problem: 'RecordId is not a string' };
  const recordId = rawRecordId(r);
  if (recordId === null) return { ok: false, problem: 'RecordId is empty' };
  if (typeof r.RecordId === 'string' && r.RecordId.includes('\u0000')) {
    return { ok: false, problem: 'RecordId contains a NUL character' };
  }
  for (const field of ['TenantId', 'ProductId'] as const) {
    if (!isGuid(r[field])) return { ok: false, problem: `${field} is not a GUID` };
  }
  const numbers: Record<string, Decimal> = {};
  for (const field of ['UnitPrice', 'Quantity', 'BillableRatio', 'SubTotal'] as const) {
    const d = jsonNumberToDecimal(r[field]);
    if (!d) return { ok: false, problem: `${field} is not a JSON number` };
    numbers[field] = d;
  }
  let unitPriceRrp: Decimal | null = null;
  if (r.UnitPriceRrp !== undefined && r.UnitPriceRrp !== null) {
    unitPriceRrp = jsonNumberToDecimal(r.UnitPriceRrp);
    if (!unitPriceRrp) return { ok: false, problem: 'UnitPriceRrp is not a JSON number' };
  }
  const chargeStart = parseCarrierInstant(r.ChargeStartDate);
  if (!chargeStart) return { ok: false, problem: 'ChargeStartDate is not an ISO 8601 date-time with an offset' };
  const chargeEnd = parseCarrierInstant(r.ChargeEndDate);
  if (!chargeEnd) return { ok: false, problem: 'ChargeEndDate is not an ISO 8601 date-time with an offset' };
  if (compareInstants(chargeEnd, chargeStart) < 0) return { ok: false, problem: 'ChargeEndDate precedes ChargeStartDate' };
  if (typeof r.Currency !== 'string' || r.Currency.trim() === '') return { ok: false, problem: 'Currency is not a non-empty string' };
  return {
    ok: true,
    record: {
      recordId,
      tenantId: normalizeGuid(r.TenantId as string),
      productId: normalizeGuid(r.ProductId as string),
      subscriptionId: typeof r.SubscriptionId === 'string' ? r.SubscriptionId : isJsonNumberLike(r.SubscriptionId) ? (r.SubscriptionId as { value: string }).value : null,
      chargeStart,
      chargeEnd,
      unitPrice: numbers.UnitPrice!,
      unitPriceRrp,
      quantity: numbers.Quantity!,
      billableRatio: numbers.BillableRatio!,
      subTotal: numbers.SubTotal!,
      currency: r.Currency.trim().toUpperCase(),
    },
  };
}

function isJsonNumberLike(v: unknown): boolean {
  return typeof v === 'object' && v !== null && 'isLosslessNumber' in v;
}

/** Hash of a record's content (canonical: numbers as decimals, GUIDs case-folded, keys sorted). */
export function contentHash(raw: unknown): string {
  return createHash('sha256').update(canonicalJson(raw)).digest('hex');
}

/** The record id of a raw line when it has a usable one (used before validation, e.g. for keys). */
export function rawRecordId(raw: unknown): string | null {
  if (raw === null || typeof raw !== 'object') return null;
  const v = (raw as Record<string, unknown>).RecordId;
  const text = typeof v === 'string' ? v.trim() : isJsonNumberLike(v) ? (v as { value: string }).value : '';
  if (text === '') return null;
  return isGuid(text) ? normalizeGuid(text) : storableText(text);
}

/**
 * A text PostgreSQL can store: it has no U+0000, which JSON allows (as \u0000) inside a string.
 * Such a character becomes U+FFFD in the columns read out of a line; the line's raw text keeps it
 * exactly (as the escape it was sent as). A RecordId with one is never billed (INVALID_RECORD).
 */
export function storableText(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

/** Text fields of a raw line, tolerant of anything, for grouping and display of quarantined lines. */
export function rawText(raw: unknown, field: string): string | null {
  if (raw === null || typeof raw !== 'object') return null;
  const v = (raw as Record<string, unknown>)[field];
  // Identifiers may come as JSON numbers: their exact digits are the text.
  return typeof v === 'string' ? storableText(v) : isJsonNumberLike(v) ? (v as { value: string }).value : null;
}
