/**
 * Corrections after billing. A billed line is never edited: a correction is a CREDIT entry
 * reversing its live charge plus, where the line is still billable, a new CHARGE, both linked to
 * the RecordId, in the line's month when it is open, else in the current open month as an
 * adjustment.
 */
import { Decimal, formatMoney } from './money';
import { rate, selectRule, type Charge, type RateCard } from './rating';
import type { UsageRecord } from './usage-record';

/** What a past-dated cancel credits (or would credit). `amount` is the exact sum credited. */
export interface CreditSummary {
  lines: number;
  amount: string;
  currency: string;
  /** The billing months the credits land in. */
  periods: string[];
}

/** A live charge as a re-rate reads it: what it billed, and the line it billed. */
export interface LiveCharge {
  chargeId: number;
  serviceId: string;
  customer: string;
  productId: string;
  /** The charge billed (4 places). */
  charge: string;
  /** The usage line's record, exactly as received. */
  record: UsageRecord;
}

/** What today's rate card makes of a live charge. */
export type Rerated =
  | { kind: 'unchanged' }
  | { kind: 'changed'; rated: Charge }
  /** No rule applies today (removed, or an rrp rule on a record without RRP): left as billed. */
  | { kind: 'unrated' };

/** A re-rate applies today's rate card to a charge billed before: credited and charged again where it differs. */
export function rerateCharge(card: RateCard, charge: LiveCharge): Rerated {
  const rule = selectRule(card, charge.serviceId, charge.productId);
  const rated = rule ? rate(charge.record, rule) : null;
  if (!rated) return { kind: 'unrated' };
  return rated.charge.equals(charge.charge) ? { kind: 'unchanged' } : { kind: 'changed', rated };
}

export interface RerateFigures {
  /** Charges that change. */
  lines: number;
  /** Their charges as billed, and under today's rate card; delta = new − old. Exact, 4 places. */
  oldCharge: string;
  newCharge: string;
  delta: string;
}

export interface RerateCustomerFigures extends RerateFigures {
  customer: string;
}

/** Adds up changed charges, overall and per customer (customers in name order). */
export class RerateTally {
  private readonly total = { lines: 0, oldCharge: new Decimal(0), newCharge: new Decimal(0) };
  private readonly customers = new Map<string, { lines: number; oldCharge: Decimal; newCharge: Decimal }>();
  /** Live charges in scope that no rule rates today (left as billed). */
  unrated = 0;
  /** Live charges read. */
  examined = 0;

  add(charge: LiveCharge, outcome: Rerated): void {
    this.examined++;
    if (outcome.kind === 'unrated') this.unrated++;
    if (outcome.kind !== 'changed') return;
    for (const t of [this.total, this.customer(charge.customer)]) {
      t.lines++;
      t.oldCharge = t.oldCharge.plus(charge.charge);
      t.newCharge = t.newCharge.plus(outcome.rated.charge);
    }
  }

  /** Another tally's figures (a batch's) added to this one's. */
  merge(other: RerateSummaryFigures): void {
    this.examined += other.examined;
    this.unrated += other.unrated;
    this.addFigures(this.total, other);
    for (const c of other.byCustomer) this.addFigures(this.customer(c.customer), c);
  }

  figures(): RerateSummaryFigures {
    return {
      ...figuresOf(this.total),
      examined: this.examined,
      unrated: this.unrated,
      byCustomer: [...this.customers.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([customer, t]) => ({ customer, ...figuresOf(t) })),
    };
  }

  private customer(name: string) {
    let t = this.customers.get(name);
    if (!t) this.customers.set(name, (t = { lines: 0, oldCharge: new Decimal(0), newCharge: new Decimal(0) }));
    return t;
  }

  private addFigures(t: { lines: number; oldCharge: Decimal; newCharge: Decimal }, f: RerateFigures): void {
    t.lines += f.lines;
    t.oldCharge = t.oldCharge.plus(f.oldCharge);
    t.newCharge = t.newCharge.plus(f.newCharge);
  }
}

export interface RerateSummaryFigures extends RerateFigures {
  examined: number;
  unrated: number;
  byCustomer: RerateCustomerFigures[];
}

function figuresOf(t: { lines: number; oldCharge: Decimal; newCharge: Decimal }): RerateFigures {
  return {
    lines: t.lines,
    oldCharge: formatMoney(t.oldCharge),
    newCharge: formatMoney(t.newCharge),
    delta: formatMoney(t.newCharge.minus(t.oldCharge)),
  };
}
