import { createHash } from 'node:crypto';
import type { Decimal } from './money';
import { isGuid, normalizeGuid } from './guid';
import { canonicalJson, jsonNumberToDecimal } from '../lib/lossless';
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

/** The fields every usage line must carry (not null), in the order a missing one is reported. */
export const REQUIRED_FIELDS = [
  'RecordId',
  'TenantId',
  'ProductId',
  'ChargeStartDate',
  'ChargeEndDate',
  'UnitPrice',
  'Quantity',
  'BillableRatio',
  'SubTotal',
  'Currency',
] as const;

/**
 * The INVALID_RECORD rules of domain.md, in one place. `problem` names the field and what is wrong.
 * Every field is read by name, once: a million lines go through here each cycle, and a field read
 * through a variable key (a loop over names) costs a dictionary lookup each time.
 */
export function validateUsageRecord(raw: unknown): RecordValidation {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return { ok: false, problem: 'record is not a JSON object' };
  const r = raw as Record<string, unknown>;
  const recordIdValue = r.RecordId,
    tenantId = r.TenantId,
    productId = r.ProductId,
    start = r.ChargeStartDate,
    end = r.ChargeEndDate;
  const unitPriceValue = r.UnitPrice,
    quantityValue = r.Quantity,
    ratioValue = r.BillableRatio,
    subTotalValue = r.SubTotal,
    currency = r.Currency;
  const missing: number =
    recordIdValue == null
      ? 0
      : tenantId == null
        ? 1
        : productId == null
          ? 2
          : start == null
            ? 3
            : end == null
              ? 4
              : unitPriceValue == null
                ? 5
                : quantityValue == null
                  ? 6
                  : ratioValue == null
                    ? 7
                    : subTotalValue == null
                      ? 8
                      : currency == null
                        ? 9
                        : -1;
  if (missing >= 0) return { ok: false, problem: `${REQUIRED_FIELDS[missing]} is missing or null` };
  if (typeof recordIdValue !== 'string' && !isJsonNumberLike(recordIdValue))
    return { ok: false, problem: 'RecordId is not a string' };
  const recordId = recordIdOf(recordIdValue);
  if (recordId === null) return { ok: false, problem: 'RecordId is empty' };
  if (typeof recordIdValue === 'string' && recordIdValue.includes('\u0000')) {
    return { ok: false, problem: 'RecordId contains a NUL character' };
  }
  if (!isGuid(tenantId)) return { ok: false, problem: 'TenantId is not a GUID' };
  if (!isGuid(productId)) return { ok: false, problem: 'ProductId is not a GUID' };
  const unitPrice = jsonNumberToDecimal(unitPriceValue);
  if (!unitPrice) return { ok: false, problem: 'UnitPrice is not a JSON number' };
  const quantity = jsonNumberToDecimal(quantityValue);
  if (!quantity) return { ok: false, problem: 'Quantity is not a JSON number' };
  const billableRatio = jsonNumberToDecimal(ratioValue);
  if (!billableRatio) return { ok: false, problem: 'BillableRatio is not a JSON number' };
  const subTotal = jsonNumberToDecimal(subTotalValue);
  if (!subTotal) return { ok: false, problem: 'SubTotal is not a JSON number' };
  let unitPriceRrp: Decimal | null = null;
  const rrpValue = r.UnitPriceRrp;
  if (rrpValue !== undefined && rrpValue !== null) {
    unitPriceRrp = jsonNumberToDecimal(rrpValue);
    if (!unitPriceRrp) return { ok: false, problem: 'UnitPriceRrp is not a JSON number' };
  }
  const chargeStart = parseCarrierInstant(start);
  if (!chargeStart) return { ok: false, problem: 'ChargeStartDate is not an ISO 8601 date-time with an offset' };
  const chargeEnd = parseCarrierInstant(end);
  if (!chargeEnd) return { ok: false, problem: 'ChargeEndDate is not an ISO 8601 date-time with an offset' };
  if (compareInstants(chargeEnd, chargeStart) < 0)
    return { ok: false, problem: 'ChargeEndDate precedes ChargeStartDate' };
  if (typeof currency !== 'string' || currency.trim() === '')
    return { ok: false, problem: 'Currency is not a non-empty string' };
  const subscriptionId = r.SubscriptionId;
  return {
    ok: true,
    record: {
      recordId,
      tenantId: normalizeGuid(tenantId),
      productId: normalizeGuid(productId),
      subscriptionId:
        typeof subscriptionId === 'string'
          ? subscriptionId
          : isJsonNumberLike(subscriptionId)
            ? (subscriptionId as { value: string }).value
            : null,
      chargeStart,
      chargeEnd,
      unitPrice,
      unitPriceRrp,
      quantity,
      billableRatio,
      subTotal,
      currency: currency.trim().toUpperCase(),
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
  return recordIdOf((raw as Record<string, unknown>).RecordId);
}

/** A RecordId value (a string, or a JSON number's digits) as the key it is stored under; null when empty. */
function recordIdOf(v: unknown): string | null {
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
