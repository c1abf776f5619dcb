import { isLosslessNumber, LosslessNumber, parse, stringify } from 'lossless-json';
import { Decimal, decimalText, parseDecimalText } from '../core/money';
import { isGuid } from '../core/guid';

/**
 * JSON from outside is parsed without ever passing numbers through a binary float:
 * every number stays a LosslessNumber holding its exact text.
 */
export function parseLosslessJson(text: string): unknown {
  return parse(text);
}

export function stringifyLossless(value: unknown, space?: number): string {
  const out = stringify(value, undefined, space);
  if (out === undefined) throw new Error('value cannot be serialised as JSON');
  return out;
}

/**
 * A JSON number that every occurrence of its text may share (lib/fast-json.ts hands out one
 * instance per text while it is recent). Its text never changes, like every LosslessNumber
 * here; its exact Decimal (immutable too) is filled in once, the first time it is asked for.
 */
export class SharedNumber extends LosslessNumber {
  decimal: Decimal | null | undefined = undefined;
}

/** A decimal written as an exact JSON number (null stays null). */
export function exactJsonNumber(value: Decimal | null): LosslessNumber | null {
  return value === null ? null : new LosslessNumber(decimalText(value));
}

/** Exact Decimal of a JSON number; null for anything else (strings, booleans, null, absurd magnitudes). */
export function jsonNumberToDecimal(value: unknown): Decimal | null {
  if (value instanceof SharedNumber)
    return value.decimal === undefined ? (value.decimal = parseDecimalText(value.value)) : value.decimal;
  return isLosslessNumber(value) ? parseDecimalText(value.value) : null;
}

/**
 * The same number always gets the same text (1.10, 1.1 and 1.1e0 all give "1.1"). Plain decimals,
 * which is all the carrier sends, are normalised as text; only exponents go through Decimal.
 */
export function canonicalNumber(text: string): string {
  const plain = /^(-?)0*(\d*?)(?:\.(\d*?)0*)?$/.exec(text);
  if (!plain || /[eE]/.test(text)) {
    const d = parseDecimalText(text);
    return d ? decimalText(d) : text;
  }
  const [, sign, int = '', frac = ''] = plain;
  const body = `${int || '0'}${frac ? `.${frac}` : ''}`;
  return body === '0' ? '0' : `${sign}${body}`;
}

/**
 * A canonical text of a JSON value for "same content" comparison: keys sorted, numbers compared
 * as decimals (1.10 equals 1.1), GUIDs compared case-insensitively.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (isLosslessNumber(value)) return canonicalNumber(value.value);
  if (typeof value === 'number') return decimalText(new Decimal(value));
  if (typeof value === 'string') return JSON.stringify(isGuid(value) ? value.toLowerCase() : value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  // What is left (bigint, symbol, function) is not JSON data; its text is all that is kept.
  return JSON.stringify(`${value as bigint}`);
}
