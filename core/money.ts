import DecimalJs from 'decimal.js';
import { memoByText } from '../lib/memo';

/**
 * Exact decimal arithmetic for every amount in the system. Precision is far above the
 * carrier's 28 significant digits so products of three such numbers stay exact; the only
 * rounding is the final one (4 places, half away from zero) that domain.md prescribes.
 */
export const Decimal = DecimalJs.clone({
  precision: 200,
  rounding: DecimalJs.ROUND_HALF_UP,
  toExpNeg: -1000,
  toExpPos: 1000,
});
export type Decimal = InstanceType<typeof Decimal>;

export const MONEY_SCALE = 4;

/** Rounds once, to 4 places, half away from zero (0.00045 → 0.0005, −0.00045 → −0.0005). */
export function roundMoney(value: Decimal): Decimal {
  const rounded = value.toDecimalPlaces(MONEY_SCALE, Decimal.ROUND_HALF_UP);
  return rounded.isZero() ? new Decimal(0) : rounded;
}

/** The canonical text of a money amount: always 4 places, never exponent notation, never "-0". */
export function formatMoney(value: Decimal): string {
  let text = formatted.get(value);
  if (text === undefined) formatted.set(value, (text = roundMoney(value).toFixed(MONEY_SCALE)));
  return text;
}

// Decimals are immutable and a rated charge is shared by every line with the same numbers
// (core/rating.ts): each amount is formatted once.
const formatted = new WeakMap<Decimal, string>();

/** Normal (non-exponent) text of any decimal, used for canonical comparisons and storage. */
export function decimalText(value: Decimal): string {
  let text = plainTexts.get(value);
  if (text === undefined) plainTexts.set(value, (text = value.isZero() ? '0' : value.toFixed()));
  return text;
}

// The carrier's numbers arrive as shared instances (parseDecimalText): each is written out once.
const plainTexts = new WeakMap<Decimal, string>();

/** Plausible magnitudes for carrier numbers; anything beyond is malformed, not money. */
const MAX_SIGNIFICANT_DIGITS = 60;
const MAX_ABS_EXPONENT = 60;

/**
 * Parses the text of a JSON number exactly; null when it is not a usable finite decimal.
 * Decimals are immutable, so one instance serves every line carrying the same text.
 */
export const parseDecimalText = memoByText(parseDecimalTextOnce);

/**
 * The one shared instance for a decimal's text (a rate card's price or markup, read afresh for
 * every batch): charges are memoised by the identity of the numbers they are computed from
 * (core/rating.ts), so the same rule read twice must give the same instance to be rated once.
 */
export function sharedDecimal(text: string): Decimal {
  return parseDecimalText(text) ?? new Decimal(text);
}

function parseDecimalTextOnce(text: string): Decimal | null {
  if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(text)) return null;
  let value: Decimal;
  try {
    value = new Decimal(text);
  } catch {
    return null;
  }
  if (!value.isFinite()) return null;
  if (!value.isZero() && (Math.abs(value.e) > MAX_ABS_EXPONENT || value.sd(true) > MAX_SIGNIFICANT_DIGITS)) return null;
  return value;
}
