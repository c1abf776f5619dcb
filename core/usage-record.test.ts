import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REQUIRED_FIELDS, validateUsageRecord } from './usage-record';
import { parseLosslessJson } from '../lib/lossless';

const T1 = 'AAAAAAAA-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const P1 = '11111111-1111-4111-8111-11111111111B';

const VALID: Record<string, string> = {
  RecordId: '"R-1"',
  TenantId: `"${T1}"`,
  ProductId: `"${P1}"`,
  SubscriptionId: '"sub-9"',
  ChargeStartDate: '"2026-10-01T00:00:00+10:00"',
  ChargeEndDate: '"2026-10-31T23:59:59.9999999+10:00"',
  UnitPrice: '10.50',
  UnitPriceRrp: '13',
  Quantity: '3',
  BillableRatio: '1',
  SubTotal: '31.5',
  Currency: '" aud "',
};

/** A record's parsed value with fields replaced (JSON text) or, given undefined, left out. */
function record(set: Record<string, string | undefined> = {}): unknown {
  const fields = { ...VALID, ...set };
  return parseLosslessJson(
    `{${Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `"${k}":${v}`)
      .join(',')}}`,
  );
}

function problemOf(raw: unknown): string {
  const v = validateUsageRecord(raw);
  assert.equal(v.ok, false, 'expected a problem');
  return v.ok ? '' : v.problem;
}

test('a valid usage line: exact decimals, GUIDs in their one form, RecordId and currency normalised', () => {
  const v = validateUsageRecord(record());
  assert.ok(v.ok);
  const r = v.record;
  assert.equal(r.recordId, 'R-1');
  assert.equal(r.tenantId, T1.toLowerCase());
  assert.equal(r.productId, P1.toLowerCase());
  assert.equal(r.subscriptionId, 'sub-9');
  assert.equal(r.unitPrice.toString(), '10.5');
  assert.equal(r.unitPriceRrp?.toString(), '13');
  assert.equal(r.quantity.toString(), '3');
  assert.equal(r.billableRatio.toString(), '1');
  assert.equal(r.subTotal.toString(), '31.5');
  assert.equal(r.currency, 'AUD');
  assert.equal(r.chargeStart.localDate, '2026-10-01');
  // A GUID RecordId is stored in its one form; a number's digits are its text; so is a subscription's.
  const guid = validateUsageRecord(record({ RecordId: `"${T1}"`, SubscriptionId: '12345678901234567890' }));
  assert.ok(guid.ok);
  assert.equal(guid.record.recordId, T1.toLowerCase());
  assert.equal(guid.record.subscriptionId, '12345678901234567890');
  const numbered = validateUsageRecord(
    record({ RecordId: '900000000000000000001', SubscriptionId: undefined, UnitPriceRrp: 'null' }),
  );
  assert.ok(numbered.ok);
  assert.equal(numbered.record.recordId, '900000000000000000001');
  assert.equal(numbered.record.subscriptionId, null);
  assert.equal(numbered.record.unitPriceRrp, null);
});

test('each required field, missing or null, is named; the first in the documented order wins', () => {
  for (const field of REQUIRED_FIELDS) {
    assert.equal(problemOf(record({ [field]: undefined })), `${field} is missing or null`);
    assert.equal(problemOf(record({ [field]: 'null' })), `${field} is missing or null`);
  }
  // Every field from the i-th on missing: the i-th is named.
  REQUIRED_FIELDS.forEach((field, i) => {
    const gone = Object.fromEntries(REQUIRED_FIELDS.slice(i).map((f) => [f, undefined]));
    assert.equal(problemOf(record(gone)), `${field} is missing or null`);
  });
  assert.equal(problemOf(record({ Currency: undefined, TenantId: 'null' })), 'TenantId is missing or null');
  assert.equal(
    problemOf(record({ SubTotal: undefined, UnitPrice: '"x"' })),
    'SubTotal is missing or null',
    'missing fields are reported before wrong ones',
  );
});

test('each wrong field gets its own problem, in the order the rules are checked', () => {
  const cases: Array<[Record<string, string | undefined>, string]> = [
    [{ RecordId: 'true' }, 'RecordId is not a string'],
    [{ RecordId: '"  "' }, 'RecordId is empty'],
    [{ RecordId: '"r\\u0000"' }, 'RecordId contains a NUL character'],
    [{ TenantId: '"contoso"' }, 'TenantId is not a GUID'],
    [{ ProductId: '"1111-2222"' }, 'ProductId is not a GUID'],
    [{ UnitPrice: '"10.5"' }, 'UnitPrice is not a JSON number'],
    [{ Quantity: '"3"' }, 'Quantity is not a JSON number'],
    [{ BillableRatio: 'true' }, 'BillableRatio is not a JSON number'],
    [{ SubTotal: '{}' }, 'SubTotal is not a JSON number'],
    [{ UnitPriceRrp: '"13"' }, 'UnitPriceRrp is not a JSON number'],
    [{ ChargeStartDate: '"2026-10-01"' }, 'ChargeStartDate is not an ISO 8601 date-time with an offset'],
    [{ ChargeEndDate: '"yesterday"' }, 'ChargeEndDate is not an ISO 8601 date-time with an offset'],
    [{ ChargeEndDate: '"2026-09-30T23:59:59+10:00"' }, 'ChargeEndDate precedes ChargeStartDate'],
    [{ Currency: '"  "' }, 'Currency is not a non-empty string'],
    [{ Currency: '36' }, 'Currency is not a non-empty string'],
    // Two wrong fields: the one checked first is reported.
    [{ ProductId: '"x"', TenantId: '"y"' }, 'TenantId is not a GUID'],
    [{ Quantity: '"3"', UnitPrice: '"1"' }, 'UnitPrice is not a JSON number'],
  ];
  for (const [set, problem] of cases) assert.equal(problemOf(record(set)), problem, JSON.stringify(set));
  for (const raw of [null, 'text', [1, 2]]) assert.equal(problemOf(raw), 'record is not a JSON object');
});
