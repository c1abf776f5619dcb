import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changeEvent, diffLicences, type LicenceView } from './licences';

const E3: LicenceView = {
  subscriptionId: 's-1',
  parentSubscriptionId: null,
  productId: 'p-e3',
  productName: 'Office 365 E3',
  quantity: 10,
  status: 'Active',
  billingCycle: 'Monthly',
};
const VISIO: LicenceView = {
  subscriptionId: 's-2',
  parentSubscriptionId: 's-1',
  productId: 'p-visio',
  productName: null,
  quantity: 2,
  status: 'Active',
  billingCycle: null,
};

test('no difference, no event', () => {
  assert.deepEqual(diffLicences([E3, VISIO], [VISIO, E3]), []);
});

test('quantity, status and billing cycle each give their own event with old and new values', () => {
  const now = { ...E3, quantity: 12, status: 'Suspended', billingCycle: 'Annual' };
  assert.deepEqual(diffLicences([E3], [now]), [
    { kind: 'quantity', subscriptionId: 's-1', oldValue: '10', newValue: '12' },
    { kind: 'status', subscriptionId: 's-1', oldValue: 'Active', newValue: 'Suspended' },
    { kind: 'billingCycle', subscriptionId: 's-1', oldValue: 'Monthly', newValue: 'Annual' },
  ]);
});

test('a missing billing cycle equals an empty one; a subscription added or removed is named by product (id when unnamed)', () => {
  assert.deepEqual(diffLicences([VISIO], [{ ...VISIO, billingCycle: '' }]), []);
  assert.deepEqual(diffLicences([E3], [E3, VISIO]), [
    { kind: 'added', subscriptionId: 's-2', oldValue: null, newValue: 'p-visio x 2' },
  ]);
  assert.deepEqual(diffLicences([E3, VISIO], [VISIO]), [
    { kind: 'removed', subscriptionId: 's-1', oldValue: 'Office 365 E3 x 10', newValue: null },
  ]);
});

test('a change made here is recorded as one event of its own kind', () => {
  assert.deepEqual(changeEvent({ kind: 'order', productId: 'p-e3', quantity: 5, billingCycle: 'Monthly' }, 's-9'), {
    kind: 'ordered',
    subscriptionId: 's-9',
    oldValue: null,
    newValue: 'p-e3 x 5',
  });
  assert.deepEqual(changeEvent({ kind: 'setQuantity', subscriptionId: 's-1', quantity: 3 }, null), {
    kind: 'quantity',
    subscriptionId: 's-1',
    oldValue: null,
    newValue: '3',
  });
  assert.deepEqual(changeEvent({ kind: 'cancelService', effectiveDate: '2026-12-01' }, null), {
    kind: 'serviceCancelled',
    subscriptionId: null,
    oldValue: null,
    newValue: '2026-12-01',
  });
  assert.deepEqual(changeEvent({ kind: 'reactivateService' }, null), {
    kind: 'serviceReactivated',
    subscriptionId: null,
    oldValue: null,
    newValue: null,
  });
});
