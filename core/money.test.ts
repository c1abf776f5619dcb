import test from 'node:test';
import assert from 'node:assert/strict';
import { decimalText, parseDecimalText, sharedDecimal } from './money';
import { canonicalNumber } from '../lib/lossless';
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
    unitPriceRrp: null,
    billableRatio: sharedDecimal('0.5'),
    quantity: sharedDecimal('3'),
    subTotal: sharedDecimal('30'),
  } as unknown as UsageRecord;
  const a = rate(record, { productId: 'p', kind: 'price', value: sharedDecimal('27.60') });
  const b = rate(record, { productId: 'p', kind: 'price', value: sharedDecimal('27.60') });
  assert.equal(a, b);
  assert.equal(a!.charge.toFixed(4), '41.4000');
});

test('decimalText: a carrier number written as a charge column is the normal form of its text, exponents included', () => {
  // The usage pipeline writes units, rate and ratio as decimalText of the validated numbers; the
  // line's own columns use canonicalNumber of the text. They must never disagree.
  const texts = [
    '0',
    '-0',
    '0.0',
    '-0.000',
    '1',
    '10',
    '100',
    '100.000',
    '1.50',
    '0.10',
    '-1.2300',
    '0.3870967741935483870967741935',
    '1e3',
    '1E-3',
    '-1.5e+2',
    '5e0',
    '-0e5',
    '1e-7',
    '12345678901234567890.123456789012345678',
  ];
  for (const text of texts) assert.equal(decimalText(parseDecimalText(text)!), canonicalNumber(text), text);
  assert.equal(decimalText(parseDecimalText('1E-3')!), '0.001');
  // Written once per instance: the same text again, even after the first was read.
  const d = parseDecimalText('2.50')!;
  assert.equal(decimalText(d), '2.5');
  assert.equal(decimalText(d), decimalText(parseDecimalText('2.50')!));
});
