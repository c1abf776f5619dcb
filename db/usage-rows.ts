/**
 * A usage line and its charge as COPY text (PostgreSQL's text format), with no I/O, written
 * straight from the decision (no row arrays, no second encoding pass): the usage pipeline makes
 * one line row and at most one charge row per line received. A line's row is its outcome columns
 * and the columns fixed at receipt; the row id (drawn when the page is stored) and the charge's
 * billing month (routed then, for a closed month) are added at save time (db/usage-lines.ts).
 */
import { decimalText, formatMoney } from '../core/money';
import type { Decision, LineFacts } from '../core/mediation';
import { quarantineGroupKey } from '../core/quarantine-group';
import type { QuarantineReason } from '../core/rating';

/** usage_line columns, in the order of a row's text: id, then the outcome, then what was received. */
export const LINE_COPY_COLUMNS = [
  'id', 'mediated_cycle_id', 'status', 'reason', 'reason_detail', 'service_id', 'group_key',
  'provider_id', 'first_cycle_id', 'record_key', 'content_hash', 'raw', 'tenant_ref', 'product_ref', 'charge_start', 'sub_total',
] as const;

/** usage_charge columns, in row order: the line's id and the billing month, then the rest. */
export const CHARGE_COPY_COLUMNS = [
  'usage_line_id', 'billing_period', 'provider_id', 'cycle_id', 'record_key', 'service_id', 'usage_period', 'product_key', 'units', 'unit_rate',
  'billable_ratio', 'carrier_cost', 'charge', 'margin', 'rule_kind', 'charge_start', 'charge_end',
] as const;

/** What a decision makes of a line: its outcome columns, and a charge when it is billed. */
export interface LineOutcome {
  status: 'NEW' | 'COMPLETED' | 'QUARANTINED';
  reason: QuarantineReason | null;
  /** The outcome columns (mediated_cycle_id … group_key) as COPY text. */
  text: string;
  /** The charge's usage month (its billing month unless that is closed) and its other columns. */
  charge: { period: string; text: string } | null;
}

export interface RowSource {
  providerId: string;
  receivedBy: string;
  mediatedBy: string;
}

/** A page's source as COPY fields, escaped once for all its lines. */
export interface RowSourceText {
  source: RowSource;
  providerId: string;
  receivedBy: string;
  mediatedBy: string;
}

export function rowSourceText(source: RowSource): RowSourceText {
  return { source, providerId: copyField(source.providerId), receivedBy: copyField(source.receivedBy), mediatedBy: copyField(source.mediatedBy) };
}

/** The columns fixed at receipt. */
export function receivedText(source: RowSourceText, line: LineFacts & { raw: string }): string {
  return `${source.providerId}\t${source.receivedBy}\t${copyField(line.recordKey)}\t${line.contentHash}\t${copyField(line.raw)}\t${copyField(line.tenantRef)}\t${copyField(line.productRef)}\t${copyField(line.chargeStart)}\t${copyField(line.subTotal)}`;
}

/** The outcome of a decision (null: deciding failed, the line stays NEW for the sweep). */
export function lineOutcome(source: RowSourceText, line: LineFacts & { record: unknown }, d: Exclude<Decision, { status: 'REPEAT' }> | null): LineOutcome {
  if (!d) return { status: 'NEW', reason: null, text: '\\N\tNEW\t\\N\t\\N\t\\N\t\\N', charge: null };
  const cycle = source.mediatedBy;
  if (d.status === 'QUARANTINED') {
    const group = quarantineGroupKey(source.source.providerId, d.reason, d.record?.tenantId ?? line.tenantRef);
    return { status: 'QUARANTINED', reason: d.reason, text: `${cycle}\tQUARANTINED\t${d.reason}\t${copyField(d.detail)}\t${copyField(d.serviceId)}\t${copyField(group)}`, charge: null };
  }
  const c = chargeColumns(d);
  const charge =
    `${source.providerId}\t${cycle}\t${copyField(line.recordKey)}\t${copyField(d.serviceId)}\t${c.period}\t${copyField(c.product)}\t` +
    `${c.units}\t${c.rate}\t${c.ratio}\t${c.cost}\t${c.charge}\t${c.margin}\t${c.kind}\t${copyField(c.start)}\t${copyField(c.end_)}`;
  return { status: 'COMPLETED', reason: null, text: `${cycle}\tCOMPLETED\t\\N\t\\N\t${copyField(d.serviceId)}\t\\N`, charge: { period: d.period, text: charge } };
}

/**
 * A billed line's charge columns: units, rate and ratio as the exact decimal texts of the
 * carrier's numbers (as validated: the same normal form as a line's sub_total); amounts as rated
 * (rounded once already), 4 places.
 */
export function chargeColumns(d: Extract<Decision, { status: 'COMPLETED' }>) {
  return {
    period: d.period, product: d.productKey,
    units: decimalText(d.record.quantity),
    rate: decimalText(d.record.unitPrice),
    ratio: decimalText(d.record.billableRatio),
    cost: formatMoney(d.rated.cost), charge: formatMoney(d.rated.charge), margin: formatMoney(d.rated.margin), kind: d.rated.ruleKind,
    start: d.record.chargeStart.text, end_: d.record.chargeEnd.text,
  };
}

/** A field in COPY's text format: \N for NULL; backslash, tab, newline and carriage return escaped. */
export function copyField(v: string | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  // Four native scans: a tenth of a regular expression's cost on a line's raw text (measured).
  if (v.indexOf('\\') === -1 && v.indexOf('\t') === -1 && v.indexOf('\n') === -1 && v.indexOf('\r') === -1) return v;
  return v.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}
