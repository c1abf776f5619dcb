import type { Pool } from '../db/pool';
import { getRateCard } from '../db/rates';
import { productCatalogue } from '../db/product-catalogue';
import {
  rateCardCoverage,
  sellPricePerLicence,
  type CatalogueProduct,
  type RateCardCoverage,
} from '../core/product-catalogue';
import type { RateCard } from '../core/rating';
import type { Decimal } from '../core/money';
import { exactJsonNumber, stringifyLossless } from '../lib/lossless';

/** A rule beside what the carrier says of its product, and what one licence for a full period sells for under it. */
export interface PricedRule {
  productId: string;
  productName: string | null;
  serviceId: string | null;
  kind: string;
  value: Decimal | null;
  unitCost: Decimal | null;
  unitRrp: Decimal | null;
  sellPrice: Decimal | null;
}

export function pricedRules(card: RateCard | null, catalogue: readonly CatalogueProduct[]): PricedRule[] {
  const byId = new Map(catalogue.map((p) => [p.productId, p]));
  return (card?.rules ?? []).map((rule) => {
    const product = byId.get(rule.productId) ?? {
      productId: rule.productId,
      name: null,
      unitCost: null,
      unitRrp: null,
    };
    return {
      productId: rule.productId,
      productName: product.name,
      serviceId: rule.serviceId ?? null,
      kind: rule.kind,
      value: rule.value ?? null,
      unitCost: product.unitCost,
      unitRrp: product.unitRrp,
      sellPrice: sellPricePerLicence(rule, product),
    };
  });
}

/**
 * `rates list --json`: the card in the rating command's shape (so it can be imported again),
 * each rule with its product's name, the carrier's cost and RRP and the sell price; numbers exact.
 */
export function pricedCardJson(card: RateCard | null, currency: string, rules: readonly PricedRule[]): string {
  const listing = {
    currency: card?.currency ?? currency,
    defaultMarkupPercent: exactJsonNumber(card?.defaultMarkupPercent ?? null),
    rules: rules.map((r) => ({
      productId: r.productId,
      productName: r.productName,
      serviceId: r.serviceId,
      kind: r.kind,
      value: exactJsonNumber(r.value),
      unitCost: exactJsonNumber(r.unitCost),
      unitRrp: exactJsonNumber(r.unitRrp),
      sellPrice: exactJsonNumber(r.sellPrice),
    })),
  };
  return stringifyLossless(listing, 2) + '\n';
}

/** How much of what the carrier has shown for the provider its rate card rates on every service. */
export async function providerCoverage(pool: Pool, providerId: string): Promise<RateCardCoverage> {
  const ids = (await productCatalogue(pool, providerId)).map((p) => p.productId);
  return rateCardCoverage(await getRateCard(pool, providerId), ids);
}
