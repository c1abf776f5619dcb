/**
 * A usage line and its charge as COPY text (PostgreSQL's text format), with no I/O, written
 * straight from the decision (no row arrays, no second encoding pass): the usage pipeline makes
 * one line row and at most one charge row per line received. A line's row is its outcome columns
 * and the columns fixed at receipt; the row id (drawn when the page is stored) and the charge's
 * billing month (routed then, for a closed month) are added at save time (db/usage-lines.ts).
 */
import { CopyRows } from './copy';
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

/**
 * The slot at the start of each row for its line's id, drawn only when the page is stored (ids
 * are the order of receipt): nineteen digits hold any bigint, and PostgreSQL reads the leading zeros.
 */
const ID_SLOT = '0'.repeat(19);
/** Where a charge row's billing month starts: after its line's id and a tab. Seven ASCII bytes, YYYY-MM. */
const CHARGE_PERIOD_AT = ID_SLOT.length + 1;

/**
 * A decided page as the rows it stores: a row per line that is not a repeat, a charge row per
 * billed line, each row starting with its line's id slot, and what the page counts. Made as soon
 * as the page is decided, so a page waiting for its save holds two buffers, not its lines.
 */
export interface EncodedPage {
  lines: CopyRows;
  charges: CopyRows;
  /** For each charge row, the row of its line in `lines`. */
  chargeLine: number[];
  /** The usage months of the page's charges. */
  periods: Set<string>;
  repeats: number;
  /** Lines stored decided (the rest stay NEW for the sweep). */
  processed: number;
  quarantined: Partial<Record<QuarantineReason, number>>;
}

type DecidedLine = LineFacts & { raw: string; record: unknown; decision: Decision | null };

export function encodePage(source: RowSourceText, lines: readonly DecidedLine[]): EncodedPage {
  const page: EncodedPage = { lines: new CopyRows(64 + lines.length * 1400), charges: new CopyRows(64 + lines.length * 360), chargeLine: [], periods: new Set(), repeats: 0, processed: 0, quarantined: {} };
  const staged = new Set<string>();
  for (const line of lines) {
    if (line.decision?.status === 'REPEAT') {
      page.repeats++;
      continue;
    }
    // A decided page has no exact repeat left (deciding made them REPEAT); an undecided one may.
    if (line.decision === null) {
      const identity = `${line.recordKey}|${line.contentHash}`;
      if (staged.has(identity)) {
        page.repeats++;
        continue;
      }
      staged.add(identity);
    }
    const outcome = lineOutcome(source, line, line.decision as Exclude<Decision, { status: 'REPEAT' }> | null);
    if (outcome.charge) {
      if (outcome.charge.period.length !== 7) throw new Error(`a charge's month must be YYYY-MM, not ${outcome.charge.period}`);
      page.periods.add(outcome.charge.period);
      page.chargeLine.push(page.lines.count);
      page.charges.add(`${ID_SLOT}\t${outcome.charge.period}\t${outcome.charge.text}\n`);
    }
    page.lines.add(`${ID_SLOT}\t${outcome.text}\t${receivedText(source, line)}\n`);
    if (outcome.reason) page.quarantined[outcome.reason] = (page.quarantined[outcome.reason] ?? 0) + 1;
    if (outcome.status !== 'NEW') page.processed++;
  }
  return page;
}

/**
 * Fills in an encoded page's line ids (one per line row, in order, as drawn) and, for a charge
 * whose month is closed, the month it is billed in (`routes`: usage month → billing month).
 */
export function fillIds(page: EncodedPage, ids: readonly string[], routes: Readonly<Record<string, string>>): void {
  if (ids.length !== page.lines.count) throw new Error(`a page of ${page.lines.count} lines was given ${ids.length} ids`);
  const padded = ids.map((id) => id.padStart(ID_SLOT.length, '0'));
  padded.forEach((id, row) => page.lines.fill(row, 0, id));
  const rerouted = Object.entries(routes).some(([usage, billing]) => usage !== billing);
  page.chargeLine.forEach((line, row) => {
    page.charges.fill(row, 0, padded[line]!);
    if (!rerouted) return;
    const usage = page.charges.read(row, CHARGE_PERIOD_AT, 7);
    const billing = routes[usage];
    if (billing === undefined || billing === usage) return;
    if (billing.length !== 7) throw new Error(`a billing month must be YYYY-MM, not ${billing}`);
    page.charges.fill(row, CHARGE_PERIOD_AT, billing);
  });
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
