import { LosslessNumber } from 'lossless-json';

/**
 * An invoice CSV row carries the usage line's columns as text. As a usage record (for mediation)
 * its numeric columns become JSON numbers with their exact text, so nothing passes through a
 * binary float and a line the feed sends later compares equal to it; an empty cell is null
 * (mediation then reports the missing field); text that is not a number stays text (and is
 * quarantined as INVALID_RECORD, whole).
 */
export const NUMERIC_USAGE_FIELDS = [
  'UnitPrice',
  'UnitPriceRrp',
  'Quantity',
  'BillableRatio',
  'SubTotal',
  'SubTotalRrp',
] as const;
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

export function invoiceRowToUsageRecord(row: Readonly<Record<string, string>>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [column, raw] of Object.entries(row)) {
    const text = raw.trim();
    if (text === '') record[column] = null;
    else if ((NUMERIC_USAGE_FIELDS as readonly string[]).includes(column) && JSON_NUMBER.test(text))
      record[column] = new LosslessNumber(text);
    else record[column] = raw;
  }
  return record;
}

/**
 * The columns reconciliation needs, with a clear error naming the row when one is missing; the
 * customer and product (offer name, else ProductId) come along for people to recognise the line.
 */
export function invoiceLineKey(
  row: Readonly<Record<string, string>>,
  n: number,
): { recordId: string; subTotal: string; customer: string | null; product: string | null } {
  const recordId = row.RecordId?.trim();
  const subTotal = row.SubTotal?.trim();
  if (!recordId) throw new Error(`invoice row ${n + 1} has no RecordId`);
  if (!subTotal || !JSON_NUMBER.test(subTotal))
    throw new Error(`invoice row ${n + 1} (${recordId}) has no numeric SubTotal (got "${row.SubTotal ?? ''}")`);
  const text = (v: string | undefined) => (v?.trim() ? v.trim() : null);
  return {
    recordId,
    subTotal,
    customer: text(row.CustomerName),
    product: text(row.OfferName) ?? text(row.ProductId),
  };
}
