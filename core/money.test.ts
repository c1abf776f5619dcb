import test from 'node:test';
import assert from 'node:assert/strict';
import { sharedDecimal } from './money';
import { rate } from './rating';
import type { UsageRecord } from './usage-record';

test('sharedDecimal: one instance per decimal text, exact, so a rule read twice is rated from the same memo', () => {
  const first = sharedDecimal('27.60');
  assert.equal(sharedDecimal('27.60'), first);
  assert.equal(first.toFixed(), '27.6');
  // Texts that are not JSON numbers (a database's numeric text is) still parse exactly.
  assert.equal(sharedDecimal('1e-30').toFixed(), '0.000000000000000000000000000001');
  // The charge of the same record under the same rule read twice is the very same object.
  const record = {
    unitPriceRrp: null, billableRatio: sharedDecimal('0.5'), quantity: sharedDecimal('3'), subTotal: sharedDecimal('30'),
  } as unknown as UsageRecord;
  const a = rate(record, { productId: 'p', kind: 'price', value: sharedDecimal('27.60') });
  const b = rate(record, { productId: 'p', kind: 'price', value: sharedDecimal('27.60') });
  assert.equal(a, b);
  assert.equal(a!.charge.toFixed(4), '41.4000');
});
