import { Decimal } from '../../core/money';
import type { RateCard } from '../../core/rating';
import { UNRATED_PRODUCT_NAME, type Dataset } from './dataset';

/** The demo's rate card: every product rated one of the three ways, one left unrated (NO_RATE_CARD). */
export function demoRateCard(dataset: Dataset, currency: string): RateCard {
  const kinds = ['price', 'rrp', 'markup'] as const;
  const rules = dataset.products
    .filter((p) => p.name !== UNRATED_PRODUCT_NAME)
    .map((p, i) => {
      const kind = kinds[i % 3]!;
      return {
        productId: p.productId,
        kind,
        value: kind === 'price' ? new Decimal(p.retail) : kind === 'markup' ? new Decimal('18.5') : null,
      };
    });
  return { currency, defaultMarkupPercent: null, rules };
}
