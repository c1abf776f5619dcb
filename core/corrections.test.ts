import test from 'node:test';
import assert from 'node:assert/strict';
import { RerateTally, rerateCharge, type LiveCharge } from './corrections';
import { Decimal } from './money';
import type { RateCard } from './rating';
import type { UsageRecord } from './usage-record';

const PRODUCT = '34516e04-0500-40ac-a640-c5befd027f44';

function billed(charge: string, customer = 'Contoso', withRrp = true): LiveCharge {
  const record = {
    unitPriceRrp: withRrp ? new Decimal('12') : null,
    billableRatio: new Decimal('0.5'),
    quantity: new Decimal('3'),
    subTotal: new Decimal('15'),
  } as unknown as UsageRecord;
  return { chargeId: 1, serviceId: 'S-1', customer, productId: PRODUCT, charge, record };
}

const card = (rules: RateCard['rules'], defaultMarkupPercent: string | null = null): RateCard => ({
  currency: 'AUD',
  rules,
  defaultMarkupPercent: defaultMarkupPercent === null ? null : new Decimal(defaultMarkupPercent),
});

test('re-rating: a charge equal under today’s card is unchanged; a different one is re-charged; no rule leaves it as billed', () => {
  const markup = card([{ productId: PRODUCT, kind: 'markup', value: new Decimal('10') }]);
  assert.deepEqual(rerateCharge(markup, billed('16.5000')), { kind: 'unchanged' });
  const changed = rerateCharge(markup, billed('17.2500'));
  assert.equal(changed.kind, 'changed');
  assert.equal(changed.kind === 'changed' && changed.rated.charge.toFixed(4), '16.5000');
  // A service rule is more specific than the product's.
  const forService = card([
    { productId: PRODUCT, kind: 'markup', value: new Decimal('10') },
    { productId: PRODUCT.toUpperCase(), serviceId: 'S-1', kind: 'price', value: new Decimal('20') },
  ]);
  const price = rerateCharge(forService, billed('16.5000'));
  assert.equal(price.kind === 'changed' && price.rated.charge.toFixed(4), '30.0000');
  assert.deepEqual(rerateCharge(card([]), billed('16.5000')), { kind: 'unrated' });
  assert.deepEqual(rerateCharge(card([{ productId: PRODUCT, kind: 'rrp' }]), billed('1', 'C', false)), {
    kind: 'unrated',
  });
  assert.equal(rerateCharge(card([], '10'), billed('16.5000')).kind, 'unchanged', 'the default markup applies');
});

test('re-rate tally: totals and each customer add up exactly; merged batches equal one tally', () => {
  const markup = card([{ productId: PRODUCT, kind: 'markup', value: new Decimal('10') }]);
  const lines = [billed('17.0001', 'Fabrikam'), billed('16.5000', 'Contoso'), billed('0.0003', 'Contoso')];
  const whole = new RerateTally();
  for (const l of lines) whole.add(l, rerateCharge(markup, l));
  const figures = whole.figures();
  assert.deepEqual(
    { lines: figures.lines, oldCharge: figures.oldCharge, newCharge: figures.newCharge, delta: figures.delta },
    { lines: 2, oldCharge: '17.0004', newCharge: '33.0000', delta: '15.9996' },
  );
  assert.deepEqual(
    figures.byCustomer.map((c) => [c.customer, c.lines, c.delta]),
    [
      ['Contoso', 1, '16.4997'],
      ['Fabrikam', 1, '-0.5001'],
    ],
  );
  assert.equal(figures.examined, 3);
  const batched = new RerateTally();
  for (const l of lines) {
    const batch = new RerateTally();
    batch.add(l, rerateCharge(markup, l));
    batched.merge(batch.figures());
  }
  assert.deepEqual(batched.figures(), figures);
});
