import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BUCKET_EXPORT_COLUMNS,
  XERO_COLUMNS,
  bucketExportRows,
  chargesReport,
  customerKey,
  invoicedAmount,
  shownFigures,
  twoPlaces,
  xeroRows,
  type BucketInput,
} from './billing-report';
import { Decimal } from './money';

const bucket = (over: Partial<BucketInput>): BucketInput => ({
  customerId: 'C1',
  customerName: 'Contoso Dental',
  serviceId: 'S-1001',
  tenantDomain: 'contoso.onmicrosoft.com',
  productId: 'p-1',
  productName: 'Office 365 E3',
  lines: 2,
  records: 2,
  recordIds: ['r-1', 'r-2'],
  units: '5',
  cost: '10.0000',
  charge: '12.3450',
  margin: '2.3450',
  creditLines: 0,
  credits: '0.0000',
  adjustmentLines: 0,
  ...over,
});

const buckets = [
  bucket({}),
  bucket({
    productId: 'p-2',
    productName: 'Visio',
    lines: 1,
    records: 1,
    units: '1',
    cost: '-3.3333',
    charge: '-3.8333',
    margin: '-0.5000',
    creditLines: 1,
    credits: '-3.8333',
  }),
  bucket({
    customerId: 'C2',
    customerName: 'Fabrikam',
    serviceId: 'S-1002',
    tenantDomain: 'fab.onmicrosoft.com',
    lines: 3,
    records: 3,
    units: '7',
    cost: '0.0001',
    charge: '0.0002',
    margin: '0.0001',
  }),
];

test('report: grouping by customer, service and product adds up exactly; margin % of the charge; credits apart', () => {
  const byCustomer = chargesReport('p1', '2026-10', 'AUD', 'customer', buckets);
  assert.deepEqual(byCustomer.totals, {
    lines: 6,
    units: '13',
    cost: '6.6668',
    charge: '8.5119',
    margin: '1.8451',
    // 12.35 − 3.83 + 0.00: invoice lines rounded once each, then added.
    invoiced: '8.52',
    marginPercent: '21.68',
    creditLines: 1,
    credits: '-3.8333',
    adjustmentLines: 0,
  });
  assert.deepEqual(
    byCustomer.rows.map((r) => [r.customer, r.lines, r.charge, r.creditLines, r.credits, r.marginPercent]),
    [
      ['Contoso Dental', 3, '8.5117', 1, '-3.8333', '21.68'],
      ['Fabrikam', 3, '0.0002', 0, '0.0000', '50.00'],
    ],
  );
  assert.deepEqual(
    chargesReport('p1', '2026-10', 'AUD', 'product', buckets).rows.map((r) => [r.productId, r.product, r.charge]),
    [
      ['p-1', 'Office 365 E3', '12.3452'],
      ['p-2', 'Visio', '-3.8333'],
    ],
  );
  assert.equal(chargesReport('p1', '2026-10', 'AUD', 'service', buckets).rows.length, 2);
  assert.equal(
    chargesReport('p1', '2026-10', 'AUD', 'customer', [bucket({ charge: '0', margin: '0' })]).rows[0]!.marginPercent,
    null,
  );
});

test('human amounts: 2 places, half away from zero', () => {
  assert.equal(twoPlaces('0.0050'), '0.01');
  assert.equal(twoPlaces('-0.0050'), '-0.01');
  assert.equal(twoPlaces('12.3449'), '12.34');
});

test('bucket export: documented columns, average unit price, empty when no units; the RecordIds, not their count', () => {
  const rows = bucketExportRows('2026-10', 'AUD', [buckets[0]!, bucket({ units: '0' })]);
  assert.deepEqual(Object.keys(rows[0]!), [...BUCKET_EXPORT_COLUMNS]);
  assert.equal(rows[0]!.unitPrice, '2.4690');
  assert.equal(rows[1]!.unitPrice, '');
  assert.equal(rows[0]!.charge, '12.3450');
  assert.equal(rows[0]!.invoiced, '12.35');
  assert.equal(rows[0]!.recordIds, 'r-1 r-2');
});

// Wingtip's invoice on the demo: two invoice lines whose cents, rounded line by line as Xero
// does, add up to a cent more than their exact sum rounded once.
const wingtip = [
  bucket({
    customerId: 'W',
    customerName: 'Wingtip Toys',
    serviceId: 'S-2001',
    productId: 'p-1',
    cost: '3500.0000',
    charge: '4100.0865',
    margin: '600.0865',
  }),
  bucket({
    customerId: 'W',
    customerName: 'Wingtip Toys',
    serviceId: 'S-2001',
    productId: 'p-2',
    cost: '2500.0049',
    charge: '2869.7668',
    margin: '369.7619',
  }),
];

/** What Xero computes from an import: each line Quantity × UnitAmount rounded to cents, summed per invoice. */
function xeroInvoiceTotals(rows: Array<Record<string, string>>): Map<string, string> {
  const totals = new Map<string, Decimal>();
  for (const r of rows) {
    const line = new Decimal(r['*Quantity']!).times(r['*UnitAmount']!).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
    totals.set(r['*ContactName']!, (totals.get(r['*ContactName']!) ?? new Decimal(0)).plus(line));
  }
  return new Map([...totals].map(([k, v]) => [k, v.toFixed(2)]));
}

test('rounding where money leaves: an invoice line is its exact sum rounded once; the report invoices what Xero computes', () => {
  assert.equal(invoicedAmount('4100.0865').toFixed(2), '4100.09');
  assert.equal(invoicedAmount('-0.005').toFixed(2), '-0.01', 'half away from zero');
  assert.equal(invoicedAmount('-0.004').toFixed(2), '0.00', 'never -0.00');
  const all = [...wingtip, ...buckets];
  const report = chargesReport('p1', '2026-11', 'NZD', 'customer', all);
  const w = report.rows.find((r) => r.customer === 'Wingtip Toys')!;
  assert.equal(w.charge, '6969.8533');
  assert.equal(w.invoiced, '6969.86', 'the sum of the invoice lines 4,100.09 + 2,869.77, not 6,969.85');
  const numbers = new Map([
    [customerKey(wingtip[0]!), 'CSP-202611-001'],
    [customerKey(buckets[0]!), 'CSP-202611-002'],
    [customerKey(buckets[2]!), 'CSP-202611-003'],
  ]);
  const xero = xeroInvoiceTotals(
    xeroRows('2026-11', 'NZD', { accountCode: '200', taxType: 'OUTPUT2', dueDays: 14 }, numbers, all),
  );
  for (const row of report.rows) assert.equal(xero.get(row.customer!), row.invoiced, `${row.customer}'s invoice`);
  assert.equal(
    [...xero.values()].reduce((a, v) => a.plus(v), new Decimal(0)).toFixed(2),
    report.totals.invoiced,
    'the invoices add up to the report total',
  );
  // By product or service the same invoice lines add up to the same total.
  for (const by of ['service', 'product'] as const) {
    const r = chargesReport('p1', '2026-11', 'NZD', by, all);
    assert.equal(r.totals.invoiced, report.totals.invoiced);
    assert.equal(r.rows.reduce((a, x) => a.plus(x.invoiced), new Decimal(0)).toFixed(2), r.totals.invoiced);
  }
  // The CSV export's invoiced column carries the same invoice lines.
  const csv = bucketExportRows('2026-11', 'NZD', wingtip);
  assert.deepEqual(
    csv.map((r) => r.invoiced),
    ['4100.09', '2869.77'],
  );
  // People see the invoiced charge, and a margin that is the charge shown minus the cost shown.
  assert.deepEqual(shownFigures(w), { cost: '6000.00', charge: '6969.86', margin: '969.86', credits: '0.00' });
});

test('Xero: one invoice number per customer, Quantity 1 and the invoice line rounded to cents, dates dd/mm/yyyy, tax settings from configuration', () => {
  const numbers = new Map([
    [customerKey(buckets[0]!), 'HIT-202610-001'],
    [customerKey(buckets[2]!), 'HIT-202610-002'],
  ]);
  const rows = xeroRows('2026-10', 'AUD', { accountCode: '210', taxType: 'OUTPUT', dueDays: 14 }, numbers, buckets);
  assert.deepEqual(Object.keys(rows[0]!), [...XERO_COLUMNS]);
  assert.deepEqual(
    rows.map((r) => [r['*InvoiceNumber'], r['*ContactName'], r['*UnitAmount'], r['*Quantity']]),
    [
      ['HIT-202610-001', 'Contoso Dental', '12.35', '1'],
      ['HIT-202610-001', 'Contoso Dental', '-3.83', '1'],
      ['HIT-202610-002', 'Fabrikam', '0.00', '1'],
    ],
  );
  assert.ok(
    rows.every(
      (r) =>
        r['*InvoiceDate'] === '31/10/2026' &&
        r['*DueDate'] === '14/11/2026' &&
        r['*AccountCode'] === '210' &&
        r['*TaxType'] === 'OUTPUT' &&
        r.Currency === 'AUD',
    ),
  );
  assert.throws(
    () => xeroRows('2026-10', 'AUD', { accountCode: '210', taxType: 'OUTPUT', dueDays: 14 }, new Map(), buckets),
    /no invoice number/,
  );
});
