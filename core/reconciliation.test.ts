import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  reconcile,
  toCents,
  centsText,
  classFigures,
  classFiguresTotal,
  disputeRows,
  RECONCILIATION_CLASSES,
} from './reconciliation';

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
  // The exact overall difference (7.0000000000000000000000000001 + 0.25 + 3.333 + 10.004) rounded
  // once: 20.59, not the per-class cents added (20.58).
  assert.equal(r.difference, '20.5870000000000000000000000001');
  assert.equal(r.differenceCents, 2059);
  assert.deepEqual(Object.fromEntries(Object.entries(r.classes).map(([k, v]) => [k, v.difference])), {
    MATCHED: '0',
    NOT_IN_FEED: '7.0000000000000000000000000001',
    AMOUNT_DIFFERS: '0.25',
    NOT_ON_INVOICE: '3.333',
    REPEATED_ON_INVOICE: '10.004',
  });
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

test('reconciliation figures are exact sums rounded once: per-line cents never drift into a class or the total', () => {
  const ids = (n: number, d: string) =>
    Array.from(
      { length: n },
      (_, i) => `${d.repeat(8)}-${d.repeat(4)}-4${d.repeat(3)}-8${d.repeat(3)}-${String(i).padStart(12, '0')}`,
    );
  // Ten invoice-only lines of 0.0046: each rounds to 0 cents, together they are 4.6 cents.
  const notInFeed = ids(10, 'a').map((recordId) => ({
    recordId,
    subTotal: '0.0046',
    customer: 'Wingtip',
    product: 'E3',
  }));
  // Six lines the invoice does not carry, of 0.1241 each: each −12 cents, together −74.46 cents.
  const notOnInvoice = ids(6, 'b').map((recordId) => ({
    recordId,
    subTotal: '0.1241',
    customer: 'Contoso',
    product: 'Visio',
  }));
  const r = reconcile(notInFeed, notOnInvoice);
  assert.equal(r.classes.NOT_IN_FEED.subTotal, '0.046');
  assert.equal(r.classes.NOT_IN_FEED.difference, '0.046');
  assert.equal(r.classes.NOT_IN_FEED.differenceCents, 5, 'the subtotal and the difference round alike');
  assert.equal(r.classes.NOT_ON_INVOICE.difference, '-0.7446');
  assert.equal(r.classes.NOT_ON_INVOICE.differenceCents, -74);
  assert.equal(r.difference, '-0.6986');
  assert.equal(
    r.differenceCents,
    -70,
    'the exact overall rounded once: not -72 (per-line cents), nor -69 (per-class cents)',
  );
  const sumOfClasses = Object.values(r.classes).reduce((a, c) => a.plus(c.difference!), new Decimal(0));
  assert.equal(sumOfClasses.toFixed(), r.difference);
  // Each differing line: exact and rounded difference, with whose and what it is.
  const line = r.differences.find((d) => d.class === 'NOT_ON_INVOICE')!;
  assert.deepEqual(
    [line.customer, line.product, line.received, line.difference, line.differenceCents],
    ['Contoso', 'Visio', '0.1241', '-0.1241', -12],
  );
  assert.equal(r.differences.find((d) => d.class === 'NOT_IN_FEED')!.customer, 'Wingtip');
});

test('invoice rows name their customer and product for people', () => {
  const k = invoiceLineKey({ RecordId: A, SubTotal: '1.5', CustomerName: 'Wingtip', OfferName: '', ProductId: B }, 0);
  assert.deepEqual(k, { recordId: A, subTotal: '1.5', customer: 'Wingtip', product: B });
});

test('the dispute list: differing lines only, amounts rounded once to 2 places, products by name where known', () => {
  const r = reconcile(
    [
      { recordId: A, subTotal: '10.004', customer: 'Contoso', product: 'Office 365 E3' },
      { recordId: B, subTotal: '5.505', customer: 'Fabrikam', product: E },
      { recordId: C, subTotal: '7.0000000000000000000000000001' },
    ],
    [
      { recordId: A, subTotal: '10.0049' },
      { recordId: B, subTotal: '5.25' },
      { recordId: D, subTotal: '-3.335', customer: 'Tailspin', product: D },
    ],
  );
  const rows = disputeRows(r.differences, (id) => (id === E ? 'Power BI Pro' : null));
  assert.deepEqual(rows, [
    {
      RecordId: B,
      class: 'AMOUNT_DIFFERS',
      customer: 'Fabrikam',
      product: 'Power BI Pro',
      invoiced: '5.51',
      received: '5.25',
      difference: '0.26',
    },
    {
      RecordId: C,
      class: 'NOT_IN_FEED',
      customer: '',
      product: '',
      invoiced: '7.00',
      received: '',
      difference: '7.00',
    },
    {
      RecordId: D,
      class: 'NOT_ON_INVOICE',
      customer: 'Tailspin',
      product: D,
      invoiced: '',
      received: '-3.34',
      difference: '3.34',
    },
  ]);
  const f = classFigures(r.classes);
  assert.deepEqual(f.AMOUNT_DIFFERS, {
    lines: 1,
    invoiced: '5.505',
    received: '5.25',
    difference: '0.255',
    differenceCents: 26,
  });
  assert.equal(f.NOT_ON_INVOICE.invoiced, '0');
  assert.equal(f.NOT_ON_INVOICE.received, '-3.335');
  assert.equal(f.MATCHED.received, '10.004', 'matched lines: received as invoiced');
  // The total row: exact sums, its difference the reconciliation's own (rounded once).
  const total = classFiguresTotal(f);
  assert.equal(
    total.lines,
    RECONCILIATION_CLASSES.reduce((n, c) => n + f[c].lines, 0),
  );
  assert.ok(new Decimal(total.difference!).equals(new Decimal(total.invoiced).minus(total.received)));
  assert.ok(new Decimal(total.difference!).equals(new Decimal(r.difference)));
  assert.equal(total.differenceCents, r.differenceCents);
});
