import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconcile, toCents, centsText } from './reconciliation';
import { invoiceRowToUsageRecord, invoiceLineKey } from './invoice-line';
import { Decimal } from './money';
import { contentHash } from './usage-record';
import { parseLosslessJson } from '../lib/lossless';
import { addMonths, lastDayOf, parsePeriod, previousPeriodOf } from './period';

const A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const C = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
const D = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd';
const E = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee';

test('every line falls in exactly one class; differences in cents per class and overall', () => {
  const r = reconcile(
    [
      { recordId: A.toUpperCase(), subTotal: '10.004' }, // matched to the cent (GUID case ignored)
      { recordId: B, subTotal: '5.50' }, // amount differs: received 5.25
      { recordId: C, subTotal: '7.0000000000000000000000000001' }, // not in feed
      { recordId: A, subTotal: '10.004' }, // repeated on the invoice
    ],
    [
      { recordId: A, subTotal: '10.0049' },
      { recordId: B, subTotal: '5.25' },
      { recordId: D, subTotal: '-3.333' }, // not on invoice (a credit)
    ],
  );
  assert.deepEqual(
    Object.fromEntries(Object.entries(r.classes).map(([k, v]) => [k, [v.lines, v.subTotal, v.differenceCents]])),
    {
      MATCHED: [1, '10.004', 0],
      NOT_IN_FEED: [1, '7.0000000000000000000000000001', 700],
      AMOUNT_DIFFERS: [1, '5.5', 25],
      NOT_ON_INVOICE: [1, '-3.333', 333],
      REPEATED_ON_INVOICE: [1, '10.004', 1000],
    },
  );
  assert.equal(r.differenceCents, 700 + 25 + 333 + 1000);
  assert.equal(r.invoiceLines, 4);
  assert.deepEqual(
    r.differences.map((d) => d.class),
    ['AMOUNT_DIFFERS', 'NOT_IN_FEED', 'NOT_ON_INVOICE', 'REPEATED_ON_INVOICE'],
  );
});

test('a revised line matches when any received version agrees; otherwise it differs from the latest', () => {
  const received = [
    { recordId: E, subTotal: '4.00' },
    { recordId: E, subTotal: '6.00' },
  ];
  assert.equal(reconcile([{ recordId: E, subTotal: '4.00' }], received).differenceCents, 0);
  const r = reconcile([{ recordId: E, subTotal: '6.50' }], received);
  assert.equal(r.classes.AMOUNT_DIFFERS.lines, 1);
  assert.equal(r.differenceCents, 50);
});

test('an identical invoice and feed: everything MATCHED, difference 0', () => {
  const lines = [
    { recordId: A, subTotal: '1.23' },
    { recordId: B, subTotal: '-0.005' },
  ];
  const r = reconcile(lines, lines);
  assert.equal(r.classes.MATCHED.lines, 2);
  assert.equal(r.differenceCents, 0);
  assert.deepEqual(r.differences, []);
});

test('a malformed amount is refused, naming the line', () => {
  assert.throws(() => reconcile([{ recordId: A, subTotal: '1,5' }], []), /invoice line 1 .*1,5/);
  assert.throws(() => invoiceLineKey({ RecordId: A, SubTotal: '' }, 3), /row 4/);
});

test('cents: half away from zero; text keeps the sign', () => {
  assert.equal(toCents(new Decimal('0.005')), 1);
  assert.equal(toCents(new Decimal('-0.005')), -1);
  assert.equal(toCents(new Decimal('0.0049999')), 0);
  assert.equal(centsText(-1234), '-12.34');
  assert.equal(centsText(5), '0.05');
});

test('an invoice row becomes a usage record with exact JSON numbers, equal in content to the feed line', () => {
  const feed = parseLosslessJson(
    `{"RecordId":"${A}","SubTotal":0.0322580645161290322580645161,"Quantity":3,"CustomerName":"X"}`,
  );
  const row = invoiceRowToUsageRecord({
    RecordId: A,
    SubTotal: '0.0322580645161290322580645161',
    Quantity: '3',
    CustomerName: 'X',
  });
  assert.equal(contentHash(row), contentHash(feed));
  const bad = invoiceRowToUsageRecord({ RecordId: A, SubTotal: 'abc', Quantity: '' });
  assert.equal(bad.SubTotal, 'abc');
  assert.equal(bad.Quantity, null);
});

test('periods', () => {
  assert.equal(addMonths('2026-01', -1), '2025-12');
  assert.equal(addMonths('2026-12', 1), '2027-01');
  assert.equal(lastDayOf('2028-02'), '2028-02-29');
  assert.equal(previousPeriodOf(new Date('2026-11-07T09:00:00Z')), '2026-10');
  // 09:00 on 1 December in Sydney is 22:00 on 30 November in UTC: the month before is November.
  assert.equal(previousPeriodOf(new Date('2026-11-30T22:00:00Z'), 'Australia/Sydney'), '2026-11');
  assert.equal(previousPeriodOf(new Date('2026-11-30T22:00:00Z')), '2026-10');
  assert.equal(previousPeriodOf(new Date('2026-12-01T10:30:00Z'), 'Pacific/Auckland'), '2026-11');
  assert.throws(() => parsePeriod('2026-13'), /YYYY-MM/);
});
