import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  calendarDate,
  cancelProblem,
  orderProblem,
  reactivateProblem,
  setQuantityProblem,
  type TenantLicences,
} from './licence-changes';

const E3 = { productId: 'e3', name: 'Office 365 E3', minQty: 1, maxQty: 300 };
const licence = (quantity: number, productId = 'e3') => ({
  subscriptionId: 'sub-1',
  parentSubscriptionId: null,
  productId,
  productName: productId === 'e3' ? 'Office 365 E3' : null,
  quantity,
  status: 'Active',
  billingCycle: 'Monthly',
});
const tenant = (over: Partial<TenantLicences> = {}): TenantLicences => ({
  licences: [licence(5)],
  products: [E3],
  cancelledOn: null,
  ...over,
});
const today = '2026-06-15';

test('an order needs who asks, an active service, a listed product and a quantity within its bounds', () => {
  assert.equal(orderProblem(tenant(), { by: 'alice', productId: 'E3', quantity: 2 }, today), null);
  assert.equal(
    orderProblem(tenant(), { by: ' ', productId: 'e3', quantity: 2 }, today),
    'by (the admin making the change) is required',
  );
  assert.equal(
    orderProblem(tenant({ cancelledOn: '2026-06-15' }), { by: 'a', productId: 'e3', quantity: 2 }, today),
    'the service was cancelled on 2026-06-15: no licence changes',
  );
  assert.equal(
    orderProblem(tenant({ cancelledOn: '2026-07-01' }), { by: 'a', productId: 'e3', quantity: 2 }, today),
    null,
  );
  assert.equal(
    orderProblem(tenant(), { by: 'a', productId: 'nope', quantity: 2 }, today),
    "unknown product nope: not in the provider's price list",
  );
  assert.equal(
    orderProblem(tenant(), { by: 'a', productId: 'e3', quantity: 301 }, today),
    'quantity for Office 365 E3 must be between 1 and 300 (price list); got 301',
  );
  assert.equal(
    orderProblem(tenant(), { by: 'a', productId: 'e3', quantity: 1.5 }, today),
    'quantity must be a whole number',
  );
  assert.equal(
    orderProblem(tenant(), { by: 'a', productId: 'e3', quantity: 2, billingCycle: 'Weekly' }, today),
    'billingCycle must be Monthly or Annual',
  );
});

test('a quantity change needs a licence of the tenant and a different quantity; an unlisted product has wide bounds', () => {
  assert.equal(setQuantityProblem(tenant(), { by: 'a', subscriptionId: 'SUB-1', quantity: 6 }, today), null);
  assert.equal(
    setQuantityProblem(tenant(), { by: 'a', subscriptionId: 'sub-2', quantity: 6 }, today),
    'subscription sub-2 is not a licence of this tenant',
  );
  assert.equal(
    setQuantityProblem(tenant(), { by: 'a', subscriptionId: 'sub-1', quantity: 5 }, today),
    'subscription sub-1 already has quantity 5',
  );
  const unlisted = tenant({ licences: [licence(5, 'old')] });
  assert.equal(setQuantityProblem(unlisted, { by: 'a', subscriptionId: 'sub-1', quantity: 10_000 }, today), null);
  assert.equal(
    setQuantityProblem(unlisted, { by: 'a', subscriptionId: 'sub-1', quantity: 10_001 }, today),
    'quantity for old must be between 1 and 10000 (price list); got 10001',
  );
});

test('a cancel is refused while one stands or is due, and needs a calendar date; a reactivate needs a cancel', () => {
  assert.equal(cancelProblem(tenant(), { by: 'a' }, today), null);
  assert.equal(
    cancelProblem(tenant({ cancelledOn: '2026-06-01' }), { by: 'a' }, today),
    'the service is already cancelled: billing stopped from 2026-06-01',
  );
  assert.equal(
    cancelProblem(tenant({ cancelledOn: '2026-07-01' }), { by: 'a' }, today),
    'the service is already being cancelled: billing stops from 2026-07-01 (reactivate first to change the date)',
  );
  assert.match(cancelProblem(tenant(), { by: 'a', effectiveDate: '2026-02-30' }, today)!, /^effectiveDate: /);
  assert.equal(reactivateProblem(tenant(), { by: 'a' }), 'the service is not cancelled');
  assert.equal(reactivateProblem(tenant({ cancelledOn: '2026-07-01' }), { by: 'a' }), null);
});

test("the calendar date is the provider's, and UTC for an unknown zone", () => {
  const now = new Date('2026-06-15T20:00:00Z');
  assert.equal(calendarDate(now, 'Australia/Sydney'), '2026-06-16');
  assert.equal(calendarDate(now), '2026-06-15');
  assert.equal(calendarDate(now, 'Not/AZone'), '2026-06-15');
});
