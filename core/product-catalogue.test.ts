import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decimal } from './money';
import {
  coverageSummary,
  coverageText,
  findProduct,
  rateCardCoverage,
  sellPricePerLicence,
  type CatalogueProduct,
} from './product-catalogue';
import type { RateCard } from './rating';

const product = (
  productId: string,
  name: string | null,
  cost: string | null,
  rrp: string | null,
): CatalogueProduct => ({
  productId,
  name,
  unitCost: cost === null ? null : new Decimal(cost),
  unitRrp: rrp === null ? null : new Decimal(rrp),
});
const basic = product('00000000-0000-4000-8000-000000000001', 'Microsoft 365 Business Basic', '8.2', '9.8');
const standard = product('00000000-0000-4000-8000-000000000002', 'Microsoft 365 Business Standard', '17.2', '20.6');
const unnamed = product('00000000-0000-4000-8000-000000000003', null, null, null);
const catalogue = [basic, standard, unnamed];

test('a product by GUID (any case, known or not), by exact name, or by the one name containing the text', () => {
  assert.deepEqual(findProduct(catalogue, basic.productId.toUpperCase()), { ok: true, product: basic });
  const stranger = '00000000-0000-4000-8000-0000000000ff';
  assert.equal((findProduct(catalogue, stranger) as { product: CatalogueProduct }).product.productId, stranger);
  assert.deepEqual(findProduct(catalogue, ' microsoft 365 business basic '), { ok: true, product: basic });
  assert.deepEqual(findProduct(catalogue, 'Standard'), { ok: true, product: standard });
});

test('a name matching several products or none is refused, naming the candidates', () => {
  const several = findProduct(catalogue, 'business');
  assert.equal(several.ok, false);
  assert.match(
    (several as { problem: string }).problem,
    /matches 2 products: Microsoft 365 Business Basic \(0+-0000-4000-8000-0+1\), Microsoft 365 Business Standard/,
  );
  assert.match(
    (findProduct(catalogue, 'Visio') as { problem: string }).problem,
    /no product of this provider has that name; known products: Microsoft 365 Business Basic/,
  );
  assert.match((findProduct([], 'Visio') as { problem: string }).problem, /no product names known yet: give the GUID/);
});

test("a rule's sell price per licence per full period is the cycle's rating of one licence", () => {
  const sell = (rule: Parameters<typeof sellPricePerLicence>[0], p = basic) =>
    sellPricePerLicence(rule, p)?.toFixed() ?? null;
  assert.equal(sell({ productId: basic.productId, kind: 'price', value: new Decimal('11') }), '11');
  assert.equal(sell({ productId: basic.productId, kind: 'rrp' }), '9.8');
  assert.equal(sell({ productId: basic.productId, kind: 'markup', value: new Decimal('18.5') }), '9.717');
  // Rounded once to 4 places, as a charge: 8.2 × 1.123456 = 9.2123392 → 9.2123
  assert.equal(sell({ kind: 'defaultMarkup', value: new Decimal('12.3456') }), '9.2123');
  assert.equal(sell({ productId: unnamed.productId, kind: 'markup', value: new Decimal('10') }, unnamed), null);
  assert.equal(sell({ productId: unnamed.productId, kind: 'rrp' }, unnamed), null);
  assert.equal(sell({ productId: unnamed.productId, kind: 'price', value: new Decimal('3') }, unnamed), '3');
});

test('coverage: product rules for every service, or the default markup for all; service rules do not count', () => {
  const ids = catalogue.map((p) => p.productId);
  const card: RateCard = {
    currency: 'AUD',
    rules: [
      { productId: basic.productId, kind: 'rrp' },
      { productId: standard.productId, serviceId: 'S-1', kind: 'markup', value: new Decimal(5) },
    ],
  };
  assert.deepEqual(rateCardCoverage(card, ids), { seen: 3, covered: 1, defaultMarkup: false });
  assert.deepEqual(rateCardCoverage(null, ids), { seen: 3, covered: 0, defaultMarkup: false });
  const all = rateCardCoverage({ ...card, defaultMarkupPercent: new Decimal(0) }, ids);
  assert.deepEqual(all, { seen: 3, covered: 3, defaultMarkup: true });
  assert.equal(coverageText(all), 'rate card covers all 3 products seen');
  assert.match(
    coverageText(rateCardCoverage(card, ids)),
    /^rate card covers 1 of 3 products seen; uncovered products quarantine as NO_RATE_CARD/,
  );
  assert.equal(
    coverageSummary(rateCardCoverage(card, ids)),
    'covers 1 of 3 products seen; the rest quarantine as NO_RATE_CARD',
  );
  assert.equal(coverageSummary(rateCardCoverage(card, [])), 'no products seen at the carrier yet');
});
