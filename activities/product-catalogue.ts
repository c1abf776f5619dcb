import type { Pool } from '../db/pool';
import { recordPriceList, recordUsageProducts, type SeenProduct } from '../db/product-catalogue';
import { isGuid } from '../core/guid';
import { decimalText } from '../core/money';
import { jsonNumberToDecimal } from '../lib/lossless';
import type { PriceList } from '../carrier/schemas';

/** A carrier number as exact decimal text (null when absent). */
export function carrierAmount(value: unknown): string | null {
  const d = jsonNumberToDecimal(value);
  return d ? decimalText(d) : null;
}

/** The price list's products, as the product catalogue keeps them. */
export function priceListProducts(list: PriceList): SeenProduct[] {
  return list.ProductGroups.flatMap((g) =>
    g.Products.map((p) => ({
      productId: p.ProductId,
      name: p.ProductName,
      unitCost: carrierAmount(p.UnitPrice),
      unitRrp: carrierAmount(p.RetailUnitPrice),
    })),
  );
}

/** Keeps what a price list read says in the provider's product catalogue. */
export async function cataloguePriceList(pool: Pool, providerId: string, list: PriceList): Promise<void> {
  await recordPriceList(pool, providerId, priceListProducts(list));
}

/**
 * The products on a fetch call's usage lines, noted as the pages pass (one map lookup per line)
 * and kept in the catalogue once per call: the lines' own names and prices serve products the
 * price list has not given.
 */
export class ProductsOnLines {
  private readonly seen = new Map<string, SeenProduct | null>();

  note(lines: ReadonlyArray<{ productRef: string | null; record: unknown }>): void {
    for (const line of lines) {
      const id = line.productRef;
      if (id !== null && !this.seen.has(id)) this.seen.set(id, productOnLine(id, line.record));
    }
  }

  async keep(pool: Pool, providerId: string): Promise<void> {
    const products = [...this.seen.values()].filter((p): p is SeenProduct => p !== null);
    await recordUsageProducts(pool, providerId, products);
  }
}

function productOnLine(productId: string, record: unknown): SeenProduct | null {
  if (!isGuid(productId) || record === null || typeof record !== 'object') return null;
  const r = record as Record<string, unknown>;
  const name = typeof r.OfferName === 'string' ? r.OfferName : typeof r.ProductName === 'string' ? r.ProductName : null;
  return { productId, name, unitCost: carrierAmount(r.UnitPrice), unitRrp: carrierAmount(r.UnitPriceRrp) };
}
