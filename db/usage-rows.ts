/**
 * A decided page of usage lines as the rows it stores, in COPY's binary format, with no I/O,
 * written straight from the decisions (no row arrays, no second encoding pass): one line row and
 * at most one charge row per line received. A line's row is its outcome columns and the columns
 * fixed at receipt; the row id (drawn when the page is stored) and the charge's billing month
 * (routed then, for a closed month) are filled in at save time (db/usage-lines.ts).
 */
import { CopyRows, field, numericField } from './copy';
import { decimalText, formatMoney, type Decimal } from '../core/money';
import { parsePeriod } from '../core/period';
import type { Decision, LineFacts } from '../core/mediation';
import { quarantineGroupKey } from '../core/quarantine-group';
import type { Charge, QuarantineReason } from '../core/rating';

/** usage_line columns, in row order: id, then the outcome, then what was received. */
export const LINE_COPY_COLUMNS = [
  'id',
  'mediated_cycle_id',
  'status',
  'reason',
  'reason_detail',
  'service_id',
  'group_key',
  'provider_id',
  'first_cycle_id',
  'record_key',
  'content_hash',
  'raw',
  'tenant_ref',
  'product_ref',
  'charge_start',
  'sub_total',
] as const;

/** usage_charge columns, in row order: the line's id and the billing month, then the rest. */
export const CHARGE_COPY_COLUMNS = [
  'usage_line_id',
  'billing_period',
  'provider_id',
  'cycle_id',
  'record_key',
  'service_id',
  'usage_period',
  'product_key',
  'units',
  'unit_rate',
  'billable_ratio',
  'carrier_cost',
  'charge',
  'margin',
  'rule_kind',
  'charge_start',
  'charge_end',
] as const;

export interface RowSource {
  providerId: string;
  receivedBy: string;
  mediatedBy: string;
}

/**
 * Where a row's id is, in bytes from the row's start: after its field count (2 bytes) and the
 * field's length (4), 8 bytes. A charge row's billing month follows, after its length: 7 bytes.
 */
const ID_AT = 6;
const CHARGE_PERIOD_AT = ID_AT + 8 + 4;

/**
 * A decided page as the rows it stores: a row per line that is not a repeat, a charge row per
 * billed line, each row starting with its line's id (filled in at save time), and what the page
 * counts. Made as soon as the page is decided, so a page waiting for its save holds two buffers,
 * not its lines.
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

/** A page's constant fields, encoded once for all its rows. */
interface Constants {
  source: RowSource;
  providerId: Buffer;
  receivedBy: Buffer;
  mediatedBy: Buffer;
  newOutcome: Buffer;
  completed: Buffer;
  quarantined: Buffer;
}

function constants(source: RowSource): Constants {
  const mediatedBy = field(source.mediatedBy);
  return {
    source,
    providerId: field(source.providerId),
    receivedBy: field(source.receivedBy),
    mediatedBy,
    // mediated_cycle_id … group_key of a line left NEW.
    newOutcome: Buffer.concat([field(null), field('NEW'), field(null), field(null), field(null), field(null)]),
    // The outcome columns a billed line starts with (its service and group follow), and a quarantined one.
    completed: Buffer.concat([mediatedBy, field('COMPLETED'), field(null), field(null)]),
    quarantined: Buffer.concat([mediatedBy, field('QUARANTINED')]),
  };
}

export function encodePage(rowSource: RowSource, lines: readonly DecidedLine[]): EncodedPage {
  const source = constants(rowSource);
  const page: EncodedPage = {
    lines: new CopyRows(64 + lines.length * 1200),
    charges: new CopyRows(64 + lines.length * 400),
    chargeLine: [],
    periods: new Set(),
    repeats: 0,
    processed: 0,
    quarantined: {},
  };
  const staged = new Set<string>();
  for (const line of lines) {
    const d = line.decision;
    if (d?.status === 'REPEAT') {
      page.repeats++;
      continue;
    }
    // A decided page has no exact repeat left (deciding made them REPEAT); an undecided one may.
    if (d === null) {
      const identity = `${line.recordKey}|${line.contentHash}`;
      if (staged.has(identity)) {
        page.repeats++;
        continue;
      }
      staged.add(identity);
    }
    if (d?.status === 'COMPLETED') {
      // A month is filled in again at save time when it is closed, in place: always seven bytes.
      if (!page.periods.has(d.period)) page.periods.add(parsePeriod(d.period));
      page.chargeLine.push(page.lines.count);
      writeCharge(page.charges, source, line, d);
    }
    writeLine(page.lines, source, line, d);
    if (d?.status === 'QUARANTINED') page.quarantined[d.reason] = (page.quarantined[d.reason] ?? 0) + 1;
    if (d !== null) page.processed++;
  }
  return page;
}

/** A line's row: its outcome (null: deciding failed, the line stays NEW for the sweep), then what was received. */
function writeLine(
  rows: CopyRows,
  source: Constants,
  line: DecidedLine,
  d: Exclude<Decision, { status: 'REPEAT' }> | null,
): void {
  rows.row(LINE_COPY_COLUMNS.length);
  rows.bigint();
  if (!d) {
    rows.encoded(source.newOutcome);
  } else if (d.status === 'QUARANTINED') {
    rows.encoded(source.quarantined);
    rows.repeated(d.reason);
    rows.text(d.detail);
    rows.repeated(d.serviceId);
    rows.repeated(quarantineGroupKey(source.source.providerId, d.reason, d.record?.tenantId ?? line.tenantRef));
  } else {
    rows.encoded(source.completed);
    rows.repeated(d.serviceId);
    rows.text(null);
  }
  rows.encoded(source.providerId);
  rows.encoded(source.receivedBy);
  rows.text(line.recordKey);
  rows.text(line.contentHash);
  rows.text(line.raw);
  rows.repeated(line.tenantRef);
  rows.repeated(line.productRef);
  rows.repeated(line.chargeStart);
  rows.decimal(line.subTotal);
}

/** A billed line's charge row: its line's id (filled in at save time) and its usage month (checked in encodePage), then the rest (as chargeColumns gives them). */
function writeCharge(
  rows: CopyRows,
  source: Constants,
  line: DecidedLine,
  d: Extract<Decision, { status: 'COMPLETED' }>,
): void {
  rows.row(CHARGE_COPY_COLUMNS.length);
  rows.bigint();
  rows.repeated(d.period);
  rows.encoded(source.providerId);
  rows.encoded(source.mediatedBy);
  rows.text(line.recordKey);
  rows.repeated(d.serviceId);
  rows.repeated(d.period);
  rows.repeated(d.productKey);
  rows.encoded(numberField(d.record.quantity));
  rows.encoded(numberField(d.record.unitPrice));
  rows.encoded(numberField(d.record.billableRatio));
  rows.encoded(amountFields(d.rated));
  rows.repeated(d.record.chargeStart.text);
  rows.repeated(d.record.chargeEnd.text);
}

// The carrier's numbers and the rated amounts arrive as shared instances, the same objects line
// after line (core/money.ts parseDecimalText, core/rating.ts): each is encoded once and found
// again by identity, instead of its text being hashed and looked up once more on every line.
const numberFields = new WeakMap<Decimal, Buffer>();
const amounts = new WeakMap<Charge, Buffer>();

/** A carrier number's numeric field (units, unit_rate, billable_ratio): its exact decimal text. */
function numberField(value: Decimal): Buffer {
  let encoded = numberFields.get(value);
  if (encoded === undefined) numberFields.set(value, (encoded = numericField(decimalText(value))));
  return encoded;
}

/** A rated charge's carrier_cost, charge, margin (4 places) and rule_kind fields, in column order. */
function amountFields(rated: Charge): Buffer {
  let encoded = amounts.get(rated);
  if (encoded === undefined) {
    encoded = Buffer.concat([
      numericField(formatMoney(rated.cost)),
      numericField(formatMoney(rated.charge)),
      numericField(formatMoney(rated.margin)),
      field(rated.ruleKind),
    ]);
    amounts.set(rated, encoded);
  }
  return encoded;
}

/**
 * Fills in an encoded page's line ids (one per line row, in order, as drawn) and, for a charge
 * whose month is closed, the month it is billed in (`routes`: usage month → billing month).
 */
export function fillIds(page: EncodedPage, ids: string, routes: Readonly<Record<string, string>>): void {
  const values = idList(ids);
  if (values.length !== page.lines.count)
    throw new Error(`a page of ${page.lines.count} lines was given ${values.length} ids`);
  values.forEach((id, row) => page.lines.fillBigint(row, ID_AT, id));
  const rerouted = Object.entries(routes).some(([usage, billing]) => usage !== billing);
  page.chargeLine.forEach((line, row) => {
    page.charges.fillBigint(row, ID_AT, values[line]!);
    if (!rerouted) return;
    const usage = page.charges.readAscii(row, CHARGE_PERIOD_AT, 7);
    const billing = routes[usage];
    if (billing === undefined || billing === usage) return;
    page.charges.fillAscii(row, CHARGE_PERIOD_AT, parsePeriod(billing));
  });
}

/**
 * Ids as drawn, comma-separated decimal digits ("41,42,57"), read without a string per id: a
 * thousand of them per page.
 */
export function idList(text: string): number[] {
  const ids: number[] = [];
  if (text === '') return ids;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 44;
    if (c === 44) {
      if (digits === 0 || !Number.isSafeInteger(value)) throw new Error(`not a list of ids: ${text.slice(0, 80)}`);
      ids.push(value);
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      digits++;
    } else {
      throw new Error(`not a list of ids: ${text.slice(0, 80)}`);
    }
  }
  return ids;
}

/**
 * A billed line's charge columns: units, rate and ratio as the exact decimal texts of the
 * carrier's numbers (as validated: the same normal form as a line's sub_total); amounts as rated
 * (rounded once already), 4 places.
 */
export function chargeColumns(d: Extract<Decision, { status: 'COMPLETED' }>) {
  return {
    period: d.period,
    product: d.productKey,
    units: decimalText(d.record.quantity),
    rate: decimalText(d.record.unitPrice),
    ratio: decimalText(d.record.billableRatio),
    cost: formatMoney(d.rated.cost),
    charge: formatMoney(d.rated.charge),
    margin: formatMoney(d.rated.margin),
    kind: d.rated.ruleKind,
    start: d.record.chargeStart.text,
    end_: d.record.chargeEnd.text,
  };
}
