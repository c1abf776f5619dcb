import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLosslessJson } from '../lib/lossless';
import { parseRateCard, parseServices, InputError } from '../core/rate-card';
import { rateRecords } from '../core/rate-file';
import { formatMoney, roundMoney, Decimal } from '../core/money';
import { validateUsageRecord } from '../core/usage-record';

// The rules of domain.md ("Exact rules that tests hold the project to"), one table row each.
const T1 = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const T2 = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';
const P3 = '33333333-3333-4333-8333-333333333333';

const card = parseRateCard(
  parseLosslessJson(
    JSON.stringify({
      currency: 'AUD',
      defaultMarkupPercent: 15,
      rules: [
        { productId: P1, kind: 'price', value: 12.5 },
        { productId: P1, serviceId: 'S-2', kind: 'markup', value: 10 },
        { productId: P2, kind: 'rrp' },
      ],
    }),
  ),
);
const services = parseServices(
  parseLosslessJson(
    JSON.stringify([
      { serviceId: 'S-1', tenantId: T1 },
      { serviceId: 'S-2', tenantId: T2, cancelledOn: '2026-10-15' },
    ]),
  ),
);

/** A valid record as JSON text (numbers as written), with overrides spliced in. */
function rec(over: Record<string, string | null> = {}, drop: string[] = []): string {
  const fields: Record<string, string> = {
    RecordId: '"r-1"',
    TenantId: `"${T1}"`,
    ProductId: `"${P1}"`,
    ChargeStartDate: '"2026-10-01T00:00:00+10:00"',
    ChargeEndDate: '"2026-10-31T23:59:59.9999999+10:00"',
    UnitPrice: '10.5',
    UnitPriceRrp: '13',
    Quantity: '3',
    BillableRatio: '1',
    SubTotal: '31.5',
    Currency: '"AUD"',
  };
  for (const [k, v] of Object.entries(over)) if (v !== null) fields[k] = v;
  for (const k of drop) delete fields[k];
  return `{${Object.entries(fields)
    .map(([k, v]) => `"${k}":${v}`)
    .join(',')}}`;
}

function rateOne(...records: string[]) {
  return rateRecords(card, services, parseLosslessJson(`[${records.join(',')}]`) as unknown[]);
}

const cases: Array<{
  name: string;
  record: string;
  status: string;
  reason?: string;
  serviceId?: string | null;
  charge?: string;
  cost?: string;
}> = [
  {
    name: 'price rule: price × ratio × quantity',
    record: rec(),
    status: 'COMPLETED',
    serviceId: 'S-1',
    charge: '37.5000',
    cost: '31.5000',
  },
  {
    name: 'price rule with a 28-digit ratio (1/31)',
    record: rec({ BillableRatio: '0.0322580645161290322580645161', SubTotal: '1.0161290322580645161290322572' }),
    status: 'COMPLETED',
    charge: '1.2097',
    cost: '1.0161',
  },
  {
    name: 'service+product rule beats product rule (markup 10%)',
    record: rec({ TenantId: `"${T2}"`, SubTotal: '31.5' }),
    status: 'COMPLETED',
    serviceId: 'S-2',
    charge: '34.6500',
  },
  {
    name: 'rrp rule: UnitPriceRrp × ratio × quantity',
    record: rec({ ProductId: `"${P2}"`, BillableRatio: '0.5' }),
    status: 'COMPLETED',
    charge: '19.5000',
  },
  {
    name: 'rrp rule without UnitPriceRrp: NO_RATE_CARD, no fallback',
    record: rec({ ProductId: `"${P2}"` }, ['UnitPriceRrp']),
    status: 'QUARANTINED',
    reason: 'NO_RATE_CARD',
    serviceId: 'S-1',
  },
  {
    name: 'no rule: default markup of the card',
    record: rec({ ProductId: `"${P3}"`, SubTotal: '100' }),
    status: 'COMPLETED',
    charge: '115.0000',
  },
  {
    name: 'credit line (negative ratio) rates negative',
    record: rec({ BillableRatio: '-0.5', SubTotal: '-15.75' }),
    status: 'COMPLETED',
    charge: '-18.7500',
    cost: '-15.7500',
  },
  {
    name: 'GUIDs compare case-insensitively',
    record: rec({ TenantId: `"${T1.toUpperCase()}"`, ProductId: `"${P1.toUpperCase()}"` }),
    status: 'COMPLETED',
    serviceId: 'S-1',
    charge: '37.5000',
  },
  {
    name: 'unknown tenant: NON_EXISTENT_SERVICE',
    record: rec({ TenantId: '"cccccccc-cccc-4ccc-8ccc-cccccccccccc"' }),
    status: 'QUARANTINED',
    reason: 'NON_EXISTENT_SERVICE',
    serviceId: null,
  },
  {
    name: 'other currency: CURRENCY_MISMATCH',
    record: rec({ Currency: '"NZD"' }),
    status: 'QUARANTINED',
    reason: 'CURRENCY_MISMATCH',
  },
  {
    name: 'currency before service: unknown tenant in NZD is CURRENCY_MISMATCH',
    record: rec({ Currency: '"NZD"', TenantId: '"cccccccc-cccc-4ccc-8ccc-cccccccccccc"' }),
    status: 'QUARANTINED',
    reason: 'CURRENCY_MISMATCH',
  },
  {
    name: 'charge starting on cancelledOn: SERVICE_INACTIVE',
    record: rec({ TenantId: `"${T2}"`, ChargeStartDate: '"2026-10-15T00:00:00+10:00"' }),
    status: 'QUARANTINED',
    reason: 'SERVICE_INACTIVE',
    serviceId: 'S-2',
  },
  {
    name: 'cancelledOn compares the date as written in the record offset',
    record: rec({ TenantId: `"${T2}"`, ChargeStartDate: '"2026-10-14T23:30:00-05:00"' }),
    status: 'COMPLETED',
    serviceId: 'S-2',
  },
  {
    name: 'charge the day before cancelledOn is billed',
    record: rec({ TenantId: `"${T2}"`, ChargeStartDate: '"2026-10-14T00:00:00+10:00"' }),
    status: 'COMPLETED',
  },
  { name: 'missing RecordId', record: rec({}, ['RecordId']), status: 'QUARANTINED', reason: 'INVALID_RECORD' },
  { name: 'null Quantity', record: rec({ Quantity: 'null' }), status: 'QUARANTINED', reason: 'INVALID_RECORD' },
  { name: 'missing Currency', record: rec({}, ['Currency']), status: 'QUARANTINED', reason: 'INVALID_RECORD' },
  { name: 'number as string', record: rec({ SubTotal: '"31.5"' }), status: 'QUARANTINED', reason: 'INVALID_RECORD' },
  {
    name: 'TenantId not a GUID',
    record: rec({ TenantId: '"contoso"' }),
    status: 'QUARANTINED',
    reason: 'INVALID_RECORD',
  },
  {
    name: 'ProductId not a GUID',
    record: rec({ ProductId: '"1111-2222"' }),
    status: 'QUARANTINED',
    reason: 'INVALID_RECORD',
  },
  {
    name: 'date without offset',
    record: rec({ ChargeStartDate: '"2026-10-01T00:00:00"' }),
    status: 'QUARANTINED',
    reason: 'INVALID_RECORD',
  },
  {
    name: 'date only',
    record: rec({ ChargeEndDate: '"2026-10-31"' }),
    status: 'QUARANTINED',
    reason: 'INVALID_RECORD',
  },
  {
    name: 'impossible date',
    record: rec({ ChargeEndDate: '"2026-02-30T00:00:00Z"' }),
    status: 'QUARANTINED',
    reason: 'INVALID_RECORD',
  },
  {
    name: 'end before start',
    record: rec({ ChargeEndDate: '"2026-09-30T23:59:59+10:00"' }),
    status: 'QUARANTINED',
    reason: 'INVALID_RECORD',
  },
  {
    name: 'end before start by 100ns only',
    record: rec({
      ChargeStartDate: '"2026-10-01T00:00:00.0000002+10:00"',
      ChargeEndDate: '"2026-10-01T00:00:00.0000001+10:00"',
    }),
    status: 'QUARANTINED',
    reason: 'INVALID_RECORD',
  },
  {
    name: 'UnitPriceRrp present but not a number',
    record: rec({ UnitPriceRrp: '"13"' }),
    status: 'QUARANTINED',
    reason: 'INVALID_RECORD',
  },
  {
    name: 'INVALID_RECORD comes before CURRENCY_MISMATCH',
    record: rec({ Currency: '"NZD"', Quantity: '"3"' }),
    status: 'QUARANTINED',
    reason: 'INVALID_RECORD',
  },
  {
    name: 'exponent numbers are JSON numbers',
    record: rec({ UnitPrice: '1.05e1', SubTotal: '3.15E1' }),
    status: 'COMPLETED',
    charge: '37.5000',
    cost: '31.5000',
  },
];

for (const c of cases) {
  test(`rating: ${c.name}`, () => {
    const [line] = rateOne(c.record);
    assert.equal(line!.status, c.status, JSON.stringify(line));
    assert.equal(line!.reason, c.reason ?? null);
    if (c.serviceId !== undefined) assert.equal(line!.serviceId, c.serviceId);
    if (c.charge) assert.equal(line!.charge, c.charge);
    if (c.cost) assert.equal(line!.cost, c.cost);
    if (c.status !== 'COMPLETED') assert.equal(line!.charge, null);
  });
}

test('rounding is once, at the end, half away from zero', () => {
  assert.equal(formatMoney(new Decimal('0.00045')), '0.0005');
  assert.equal(formatMoney(new Decimal('-0.00045')), '-0.0005');
  assert.equal(formatMoney(new Decimal('0.00044999999999999999999999')), '0.0004');
  assert.equal(formatMoney(new Decimal('-0.00001')), '0.0000');
  // Rounding the parts first would give 0.0003 × 3 = 0.0009; rounding once gives 0.0010.
  const [line] = rateOne(rec({ ProductId: `"${P3}"`, SubTotal: '0.000869565217391304347826087', Quantity: '3' }));
  assert.equal(line!.charge, '0.0010');
  assert.equal(roundMoney(new Decimal('0.000869565217391304347826087').times('1.15')).toFixed(4), '0.0010');
});

test('duplicates: an exact repeat is DUPLICATE, a revision DUPLICATE_USAGE, numbers compared as decimals', () => {
  const lines = rateOne(
    rec(),
    rec({ UnitPrice: '10.50', Quantity: '3.0' }),
    rec({ Quantity: '4', SubTotal: '42' }),
    rec({ RecordId: '"r-2"' }),
  );
  assert.deepEqual(
    lines.map((l) => [l.status, l.reason]),
    [
      ['COMPLETED', null],
      ['DUPLICATE', null],
      ['QUARANTINED', 'DUPLICATE_USAGE'],
      ['COMPLETED', null],
    ],
  );
  assert.equal(lines[1]!.charge, null);
});

test('DUPLICATE_USAGE is checked before CURRENCY_MISMATCH', () => {
  const lines = rateOne(rec(), rec({ Currency: '"NZD"' }));
  assert.equal(lines[1]!.reason, 'DUPLICATE_USAGE');
});

test('28 significant digits survive parsing exactly', () => {
  const v = validateUsageRecord(parseLosslessJson(rec({ BillableRatio: '0.0322580645161290322580645161' })));
  assert.ok(v.ok);
  if (v.ok) assert.equal(v.record.billableRatio.toFixed(), '0.0322580645161290322580645161');
});

test('rate card errors name the field', () => {
  assert.throws(
    () => parseRateCard({ currency: 'AUD', rules: [{ productId: P1, kind: 'price' }] }),
    (e: Error) => e instanceof InputError && /rules\[0\]\.value/.test(e.message),
  );
  assert.throws(() => parseRateCard({ currency: 'Australian dollars', rules: [] }), /currency/);
  assert.throws(
    () => parseRateCard({ currency: 'AUD', rules: [{ productId: 'x', kind: 'price', value: 1 }] }),
    /rules\[0\]\.productId/,
  );
  assert.throws(
    () => parseRateCard({ currency: 'AUD', rules: [{ productId: P1, kind: 'discount', value: 1 }] }),
    /kind must be one of/,
  );
  assert.throws(
    () => parseServices([{ serviceId: 'S-1', tenantId: T1, cancelledOn: 'yesterday' }]),
    /\[0\]\.cancelledOn/,
  );
});

test('rate rules accept values written as strings (as the CLI passes them), exactly', () => {
  const rule = parseRateCard({
    currency: 'AUD',
    rules: [{ productId: P1, kind: 'markup', value: '12.345678901234567890123456789' }],
  }).rules[0]!;
  assert.equal(rule.value!.toFixed(), '12.345678901234567890123456789');
  assert.throws(
    () => parseRateCard({ currency: 'AUD', rules: [{ productId: P1, kind: 'price', value: 'twelve' }] }),
    /rules\[0\]\.value must be a decimal number/,
  );
});

test('canonical numbers: equal decimals give equal text, different ones never do', async () => {
  const { canonicalNumber } = await import('../lib/lossless.js');
  const same: Array<[string, string]> = [
    ['1.10', '1.1'],
    ['1.0', '1'],
    ['0.000', '0'],
    ['-0', '0'],
    ['-0.0', '0'],
    ['1e1', '10'],
    ['1.5E+1', '15'],
    ['007.50', '7.5'],
    ['-12.3400', '-12.34'],
    ['0.0322580645161290322580645161', '0.0322580645161290322580645161'],
  ];
  for (const [a, b] of same) assert.equal(canonicalNumber(a), canonicalNumber(b), `${a} ~ ${b}`);
  for (const [a] of same) assert.equal(canonicalNumber(a), new Decimal(a).isZero() ? '0' : new Decimal(a).toFixed(), a);
  const different: Array<[string, string]> = [
    ['1.1', '1.01'],
    ['10', '1'],
    ['-1', '1'],
    ['0.1', '1'],
    ['100', '1'],
  ];
  for (const [a, b] of different) assert.notEqual(canonicalNumber(a), canonicalNumber(b), `${a} vs ${b}`);
});
