import type { Pool, PoolClient } from './pool';
import { sharedDecimal } from '../core/money';
import type { CatalogueProduct } from '../core/product-catalogue';

type Queryable = Pool | PoolClient;

/** A product as one carrier source gives it; amounts as the carrier's exact decimal texts. */
export interface SeenProduct {
  productId: string;
  name: string | null;
  unitCost: string | null;
  unitRrp: string | null;
}

const columns = (products: readonly SeenProduct[]) => [
  products.map((p) => p.productId.toLowerCase()),
  products.map((p) => p.name),
  products.map((p) => p.unitCost),
  products.map((p) => p.unitRrp),
];

/** One statement for a batch of products from one source ($1 the provider, $2…$5 the columns); the caller says what a conflict updates. */
const upsertSeen = (source: 'price_list' | 'usage') =>
  `INSERT INTO product_catalogue AS c (provider_id, product_id, product_name, unit_cost, unit_rrp, source)
   SELECT DISTINCT ON (id) $1, id, name, cost, rrp, '${source}'
     FROM unnest($2::text[], $3::text[], $4::numeric[], $5::numeric[]) AS p(id, name, cost, rrp)
   ON CONFLICT (provider_id, product_id) DO UPDATE SET`;

/**
 * The price list's products, in one statement: the price list names and prices a product over
 * any other source. A row already as given is not written again (every tenant's reconcile reads
 * the same list).
 */
export async function recordPriceList(db: Queryable, providerId: string, products: readonly SeenProduct[]) {
  if (products.length === 0) return;
  await db.query(
    `${upsertSeen('price_list')}
       product_name = EXCLUDED.product_name, unit_cost = EXCLUDED.unit_cost, unit_rrp = EXCLUDED.unit_rrp,
       source = 'price_list', updated_at = now()
     WHERE (c.product_name, c.unit_cost, c.unit_rrp, c.source)
           IS DISTINCT FROM (EXCLUDED.product_name, EXCLUDED.unit_cost, EXCLUDED.unit_rrp, 'price_list')`,
    [providerId, ...columns(products)],
  );
}

/**
 * Products seen on usage lines: a product the price list has given keeps the price list's name
 * and prices; any other gets what the lines say where nothing is known yet.
 */
export async function recordUsageProducts(db: Queryable, providerId: string, products: readonly SeenProduct[]) {
  if (products.length === 0) return;
  await db.query(
    `${upsertSeen('usage')}
       product_name = coalesce(c.product_name, EXCLUDED.product_name),
       unit_cost = coalesce(c.unit_cost, EXCLUDED.unit_cost),
       unit_rrp = coalesce(c.unit_rrp, EXCLUDED.unit_rrp),
       updated_at = now()
     WHERE c.source <> 'price_list'
       AND (c.product_name IS NULL AND EXCLUDED.product_name IS NOT NULL
         OR c.unit_cost IS NULL AND EXCLUDED.unit_cost IS NOT NULL
         OR c.unit_rrp IS NULL AND EXCLUDED.unit_rrp IS NOT NULL)`,
    [providerId, ...columns(products)],
  );
}

/** Every product known for the provider, named ones first, by name. */
export async function productCatalogue(db: Queryable, providerId: string): Promise<CatalogueProduct[]> {
  const res = await db.query<{
    product_id: string;
    product_name: string | null;
    unit_cost: string | null;
    unit_rrp: string | null;
  }>(
    `SELECT product_id, product_name, unit_cost::text, unit_rrp::text FROM product_catalogue
      WHERE provider_id = $1 ORDER BY product_name NULLS LAST, product_id`,
    [providerId],
  );
  return res.rows.map((r) => ({
    productId: r.product_id,
    name: r.product_name,
    unitCost: r.unit_cost === null ? null : sharedDecimal(r.unit_cost),
    unitRrp: r.unit_rrp === null ? null : sharedDecimal(r.unit_rrp),
  }));
}

/** The product GUIDs known per provider (for the dashboard's coverage of every provider at once). */
export async function cataloguedProductIds(db: Queryable): Promise<Map<string, string[]>> {
  const res = await db.query<{ provider_id: string; ids: string[] }>(
    'SELECT provider_id, array_agg(product_id ORDER BY product_id) AS ids FROM product_catalogue GROUP BY provider_id',
  );
  return new Map(res.rows.map((r) => [r.provider_id, r.ids]));
}
