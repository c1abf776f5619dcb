import { Decimal, sharedDecimal } from './money';
import { GUID_PATTERN, normalizeGuid } from './guid';
import { rate, selectRule, type RateCard, type SelectedRule } from './rating';
import type { UsageRecord } from './usage-record';
import type { CarrierInstant } from './iso-date';

/** A product as the carrier shows it: name, cost and RRP per licence per full period (each where given). */
export interface CatalogueProduct {
  productId: string;
  name: string | null;
  unitCost: Decimal | null;
  unitRrp: Decimal | null;
}

export type ProductMatch = { ok: true; product: CatalogueProduct } | { ok: false; problem: string };

/** At most this many candidates are named when a name is ambiguous. */
const CANDIDATES_SHOWN = 10;

/**
 * A product named by its GUID or its name: a GUID is taken as it is (a rule may come before the
 * carrier shows the product); a name must match one product's name exactly (any case), or else
 * be part of exactly one product's name. Several or none are refused, naming the candidates.
 */
export function findProduct(catalogue: readonly CatalogueProduct[], ref: string): ProductMatch {
  const text = ref.trim();
  if (GUID_PATTERN.test(text)) {
    const id = normalizeGuid(text);
    return { ok: true, product: catalogue.find((p) => p.productId === id) ?? unknownProduct(id) };
  }
  if (text === '') return { ok: false, problem: 'product: give a product name or GUID' };
  const wanted = text.toLowerCase();
  const exact = catalogue.filter((p) => p.name?.toLowerCase() === wanted);
  const matches = exact.length > 0 ? exact : catalogue.filter((p) => p.name?.toLowerCase().includes(wanted));
  if (matches.length === 1) return { ok: true, product: matches[0]! };
  if (matches.length === 0) {
    const known = catalogue.filter((p) => p.name).map(candidate);
    return {
      ok: false,
      problem: `product "${text}": no product of this provider has that name${known.length ? `; known products: ${listed(known)}` : ' (no product names known yet: give the GUID)'}`,
    };
  }
  return {
    ok: false,
    problem: `product "${text}" matches ${matches.length} products: ${listed(matches.map(candidate))}; give the full name or the GUID`,
  };
}

const candidate = (p: CatalogueProduct) => `${p.name} (${p.productId})`;
const listed = (names: string[]) =>
  names.length > CANDIDATES_SHOWN
    ? `${names.slice(0, CANDIDATES_SHOWN).join(', ')} and ${names.length - CANDIDATES_SHOWN} more`
    : names.join(', ');

function unknownProduct(productId: string): CatalogueProduct {
  return { productId, name: null, unitCost: null, unitRrp: null };
}

const ONE = sharedDecimal('1');
const ZERO = sharedDecimal('0');
const NO_DATE: CarrierInstant = { text: '', localDate: '', epochMs: 0, subMs: 0 };

/**
 * What one licence for one full period sells for under a rule: the usage cycle's own rating
 * (core/rating.ts `rate`) applied to a line of quantity 1 and billable ratio 1 at the carrier's
 * cost and RRP. null when the rule needs a figure the carrier has not given (a markup without
 * the cost, an rrp rule without the RRP).
 */
export function sellPricePerLicence(rule: SelectedRule, product: CatalogueProduct): Decimal | null {
  if ((rule.kind === 'markup' || rule.kind === 'defaultMarkup') && !product.unitCost) return null;
  const line: UsageRecord = {
    recordId: '',
    tenantId: '',
    productId: product.productId,
    subscriptionId: null,
    chargeStart: NO_DATE,
    chargeEnd: NO_DATE,
    unitPrice: product.unitCost ?? ZERO,
    unitPriceRrp: product.unitRrp,
    quantity: ONE,
    billableRatio: ONE,
    subTotal: product.unitCost ?? ZERO,
    currency: '',
  };
  return rate(line, rule)?.charge ?? null;
}

/** The rule a product's lines are rated by on a service without a rule of its own (null: NO_RATE_CARD). */
export function ruleForAllServices(card: RateCard | null, productId: string): SelectedRule | null {
  // No service has the empty id, so only product rules and the default markup can apply.
  return card ? selectRule(card, '', productId) : null;
}

export interface RateCardCoverage {
  /** Products the carrier has shown for the provider. */
  seen: number;
  /** Of those, the ones a product rule or the default markup rates on every service. */
  covered: number;
  defaultMarkup: boolean;
}

export function rateCardCoverage(card: RateCard | null, productIds: readonly string[]): RateCardCoverage {
  return {
    seen: productIds.length,
    covered: productIds.filter((id) => ruleForAllServices(card, id) !== null).length,
    defaultMarkup: card?.defaultMarkupPercent != null,
  };
}

/** The coverage in a few words: "covers 7 of 8 products seen; the rest quarantine as NO_RATE_CARD". */
export function coverageSummary(c: RateCardCoverage): string {
  if (c.seen === 0) return 'no products seen at the carrier yet';
  if (c.covered === c.seen) return `covers all ${c.seen} products seen`;
  return `covers ${c.covered} of ${c.seen} products seen; the rest quarantine as NO_RATE_CARD`;
}

/** One line for the admin: how much of what the carrier sells the rate card rates, and what to do. */
export function coverageText(c: RateCardCoverage): string {
  if (c.seen === 0)
    return 'no products seen at the carrier yet: the rate card coverage is known after the first price list';
  if (c.covered === c.seen) return `rate card ${coverageSummary(c)}`;
  return `rate card covers ${c.covered} of ${c.seen} products seen; uncovered products quarantine as NO_RATE_CARD: set a default markup with \`csp rates default-markup <provider> PERCENT\` or rules with \`csp rates set <provider> --product NAME …\``;
}
