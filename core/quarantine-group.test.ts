import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allocationIdentifiesTenant,
  allocationRefusal,
  allocationTargetProblem,
  bulkAllocationProblem,
  describeTrigger,
  isQuarantineSort,
  linesReleasedBy,
  parseGroupKey,
  quarantineGroupKey,
} from './quarantine-group';
import { QUARANTINE_REASONS } from './rating';

const TENANT = 'AAAAAAAA-aaaa-4aaa-8aaa-aaaaaaaaaaaa';

test('a group key is provider|reason|tenant and parses back', () => {
  const key = quarantineGroupKey('p-1', 'NON_EXISTENT_SERVICE', TENANT);
  assert.equal(key, `p-1|NON_EXISTENT_SERVICE|${TENANT}`);
  assert.deepEqual(parseGroupKey(key), { providerId: 'p-1', reason: 'NON_EXISTENT_SERVICE', tenantRef: TENANT });
});

test('a malformed tenant identifier cannot break the key: unsafe characters become _, length is capped, none is no-tenant', () => {
  const key = quarantineGroupKey('p-1', 'INVALID_RECORD', 'a|b c:d' + 'x'.repeat(200));
  const parts = parseGroupKey(key);
  assert.equal(parts.reason, 'INVALID_RECORD');
  assert.match(parts.tenantRef, /^a_b_c_dx+$/);
  assert.equal(parts.tenantRef.length, 100);
  assert.equal(parseGroupKey(quarantineGroupKey('p-1', 'INVALID_RECORD', null)).tenantRef, 'no-tenant');
});

test('a string that is not a group key is refused with what a key looks like', () => {
  for (const bad of ['', 'p-1', 'p-1|NO_RATE_CARD', '|NO_RATE_CARD|t'])
    assert.throws(() => parseGroupKey(bad), /not a quarantine group key \(provider\|reason\|tenant\)/, bad);
});

test('allocation is refused for INVALID_RECORD and DUPLICATE_USAGE only', () => {
  const refused = QUARANTINE_REASONS.filter((r) => allocationRefusal(r) !== null);
  assert.deepEqual([...refused].sort(), ['DUPLICATE_USAGE', 'INVALID_RECORD']);
  assert.match(allocationRefusal('INVALID_RECORD')!, /write them off, or cleanse them/);
});

test('the allocated service must exist and be the same provider’s', () => {
  assert.equal(allocationTargetProblem('S-1', 'p-1', 'p-1'), null);
  assert.equal(allocationTargetProblem('S-1', null, 'p-1'), 'service S-1 does not exist');
  assert.equal(allocationTargetProblem('S-1', 'p-2', 'p-1'), 'service S-1 belongs to another provider');
});

test('only allocating an unknown tenant GUID remembers the tenant → service mapping', () => {
  assert.equal(
    allocationIdentifiesTenant({ providerId: 'p-1', reason: 'NON_EXISTENT_SERVICE', tenantRef: TENANT }),
    true,
  );
  assert.equal(
    allocationIdentifiesTenant({ providerId: 'p-1', reason: 'NON_EXISTENT_SERVICE', tenantRef: 'no-tenant' }),
    false,
  );
  assert.equal(allocationIdentifiesTenant({ providerId: 'p-1', reason: 'NO_RATE_CARD', tenantRef: TENANT }), false);
});

test('which fix releases which reason: new service → NON_EXISTENT_SERVICE, rate → NO_RATE_CARD, reactivation → SERVICE_INACTIVE', () => {
  assert.deepEqual(linesReleasedBy({ kind: 'serviceCreated', tenantId: TENANT }), {
    reason: 'NON_EXISTENT_SERVICE',
    tenantId: TENANT,
    productId: null,
    serviceId: null,
  });
  assert.deepEqual(linesReleasedBy({ kind: 'rateAdded', productId: 'P' }), {
    reason: 'NO_RATE_CARD',
    tenantId: null,
    productId: 'P',
    serviceId: null,
  });
  // A default markup rates every product: all the provider's NO_RATE_CARD groups.
  assert.deepEqual(linesReleasedBy({ kind: 'rateAdded', productId: null }), {
    reason: 'NO_RATE_CARD',
    tenantId: null,
    productId: null,
    serviceId: null,
  });
  assert.deepEqual(linesReleasedBy({ kind: 'serviceReactivated', serviceId: 'S-1' }), {
    reason: 'SERVICE_INACTIVE',
    tenantId: null,
    productId: null,
    serviceId: 'S-1',
  });
  assert.equal(describeTrigger({ kind: 'rateAdded', productId: null }), 'rate added (default markup)');
  assert.equal(describeTrigger({ kind: 'serviceReactivated', serviceId: 'S-1' }), 'service S-1 reactivated');
});

test('a bulk allocation is refused when the groups are of more than one provider', () => {
  assert.equal(bulkAllocationProblem(['p-1|NO_RATE_CARD|a', 'p-1|NON_EXISTENT_SERVICE|b']), null);
  assert.match(
    bulkAllocationProblem(['p-1|NO_RATE_CARD|a', 'p-2|NO_RATE_CARD|b']) ?? '',
    /one provider; the checked groups belong to 2 providers \(p-1, p-2\)/,
  );
});

test('the quarantine list sorts by amount, age or lines only', () => {
  assert.deepEqual(['amount', 'age', 'lines', 'size', ''].map(isQuarantineSort), [true, true, true, false, false]);
});
