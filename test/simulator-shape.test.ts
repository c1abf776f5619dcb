import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exactNumber, WireShape } from '../carrier/simulator/shape';

test('simulator: prices go on the wire with exactly their digits, never through a JS number', () => {
  // 28 significant digits: a double keeps about 17.
  const digits = '12.34567890123456789012345678';
  for (const profile of ['documented', 'numeric'] as const) {
    assert.equal(new WireShape(profile).render({ UnitPrice: exactNumber(digits) }), `{"UnitPrice":${digits}}`, profile);
  }
  assert.equal(new WireShape().render([exactNumber('-0.50'), exactNumber('7')]), '[-0.50,7]');
  assert.throws(() => exactNumber('1e3'), /not a decimal number/);
});
