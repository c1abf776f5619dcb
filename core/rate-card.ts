import { isLosslessNumber } from 'lossless-json';
import { Decimal, parseDecimalText } from './money';
import { jsonNumberToDecimal } from '../lib/lossless';
import { isGuid, normalizeGuid } from './guid';
import { parseCarrierInstant, parsePlainDate } from './iso-date';
import type { RateCard, RateRule, RuleKind, ServiceRef } from './rating';

/** Raised for a rate card or services list that does not follow domain.md; the message names the path. */
export class InputError extends Error {
  override name = 'InputError';
}

const KINDS: readonly RuleKind[] = ['price', 'rrp', 'markup'];

/**
 * Bounds on rate values, from how charges are stored: the charge, cost and margin columns are
 * NUMERIC(38, 4), so an amount must stay below 10^34. A value whose charges could not be stored
 * is refused here, where it is entered (CLI, console, rate card files), never discovered later
 * by a cleanse or cycle failing on "numeric field overflow".
 *
 * - A line covers at most 10^9 licence-periods (Quantity × BillableRatio: Microsoft caps a
 *   subscription far below a million licences, and a ratio is a share of one period). A price
 *   below 10^20 keeps every line's charge below 10^29.
 * - A markup below 10^20 % multiplies the carrier's SubTotal by less than 10^18 + 1: a line's
 *   SubTotal up to 10^15 stays below 10^34.
 * The leftover digits are headroom for sums. Both bounds are exclusive, and one number:
 */
export const MAX_RATE_VALUE = new Decimal('1e20');
const MAX_RATE_TEXT = '100,000,000,000,000,000,000 (10^20)';

/** Why a price per licence per period cannot be used (null: it can). */
export function priceProblem(value: Decimal): string | null {
  if (value.isNegative()) return 'a price cannot be negative';
  if (value.abs().greaterThanOrEqualTo(MAX_RATE_VALUE))
    return `a price must be below ${MAX_RATE_TEXT}: charges are stored with 38 digits, 4 after the point, and a line of up to 10^9 licence-periods at a higher price could not be stored`;
  return null;
}

/** Why a markup percentage (a rule's or the default) cannot be used (null: it can). */
export function markupProblem(value: Decimal): string | null {
  if (value.lessThan(-100)) return 'a markup below -100% would charge a negative amount';
  if (value.greaterThanOrEqualTo(MAX_RATE_VALUE))
    return `a markup must be below ${MAX_RATE_TEXT} %: charges are stored with 38 digits, 4 after the point, and a carrier charge marked up further could not be stored`;
  return null;
}

function decimalField(value: unknown, path: string, required: boolean): Decimal | null {
  if (value === undefined || value === null) {
    if (required) throw new InputError(`${path} is required`);
    return null;
  }
  // Numbers written as JSON strings are accepted here (a card is written by people), but parsed exactly.
  const d = isLosslessNumber(value)
    ? jsonNumberToDecimal(value)
    : typeof value === 'string'
      ? parseDecimalText(value.trim())
      : null;
  if (!d) throw new InputError(`${path} must be a decimal number`);
  return d;
}

/** A rate card in domain.md's JSON shape (already parsed losslessly). */
export function parseRateCard(input: unknown): RateCard {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new InputError('rate card must be a JSON object');
  const card = input as Record<string, unknown>;
  if (typeof card.currency !== 'string' || !/^[A-Za-z]{3}$/.test(card.currency)) {
    throw new InputError('currency must be a 3-letter currency code such as "AUD"');
  }
  const defaultMarkupPercent = decimalField(card.defaultMarkupPercent, 'defaultMarkupPercent', false);
  const markupRefused = defaultMarkupPercent && markupProblem(defaultMarkupPercent);
  if (markupRefused) throw new InputError(`defaultMarkupPercent: ${markupRefused}`);
  const rulesInput = card.rules ?? [];
  if (!Array.isArray(rulesInput)) throw new InputError('rules must be an array');
  const seen = new Set<string>();
  const rules = rulesInput.map((raw, i): RateRule => {
    const path = `rules[${i}]`;
    const rule = parseRateRule(raw, path);
    const key = `${rule.productId}|${rule.serviceId ?? ''}`;
    if (seen.has(key))
      throw new InputError(
        `${path} repeats the rule for product ${rule.productId}${rule.serviceId ? ` and service ${rule.serviceId}` : ''}`,
      );
    seen.add(key);
    return rule;
  });
  return { currency: card.currency.toUpperCase(), defaultMarkupPercent, rules };
}

export function parseRateRule(raw: unknown, path = 'rule'): RateRule {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(`${path} must be an object`);
  const r = raw as Record<string, unknown>;
  if (!isGuid(r.productId)) throw new InputError(`${path}.productId must be a product GUID`);
  if (
    r.serviceId !== undefined &&
    r.serviceId !== null &&
    (typeof r.serviceId !== 'string' || r.serviceId.trim() === '')
  ) {
    throw new InputError(`${path}.serviceId must be a non-empty string when present`);
  }
  if (typeof r.kind !== 'string' || !KINDS.includes(r.kind as RuleKind))
    throw new InputError(`${path}.kind must be one of price, rrp, markup`);
  const kind = r.kind as RuleKind;
  const value = kind === 'rrp' ? null : decimalField(r.value, `${path}.value`, true);
  const refused = kind === 'price' ? priceProblem(value!) : kind === 'markup' ? markupProblem(value!) : null;
  if (refused) throw new InputError(`${path}.value: ${refused}`);
  return {
    productId: normalizeGuid(r.productId),
    serviceId: typeof r.serviceId === 'string' ? r.serviceId.trim() : null,
    kind,
    value,
  };
}

/** services.json of the rating command: [{serviceId, tenantId, cancelledOn?}]. */
export function parseServices(input: unknown): ServiceRef[] {
  if (!Array.isArray(input)) throw new InputError('services must be a JSON array');
  return input.map((raw, i) => {
    const path = `[${i}]`;
    if (raw === null || typeof raw !== 'object') throw new InputError(`${path} must be an object`);
    const s = raw as Record<string, unknown>;
    if (typeof s.serviceId !== 'string' || s.serviceId.trim() === '')
      throw new InputError(`${path}.serviceId must be a non-empty string`);
    if (!isGuid(s.tenantId)) throw new InputError(`${path}.tenantId must be a tenant GUID`);
    let cancelledOn: string | null = null;
    if (s.cancelledOn !== undefined && s.cancelledOn !== null) {
      cancelledOn = parsePlainDate(s.cancelledOn) ?? parseCarrierInstant(s.cancelledOn)?.localDate ?? null;
      if (!cancelledOn) throw new InputError(`${path}.cancelledOn must be a date written YYYY-MM-DD`);
    }
    return { serviceId: s.serviceId.trim(), tenantId: normalizeGuid(s.tenantId), cancelledOn };
  });
}
