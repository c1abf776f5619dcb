import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BUCKET_EXPORT_COLUMNS,
  XERO_COLUMNS,
  bucketExportRows,
  chargesReport,
  customerKey,
  twoPlaces,
  xeroRows,
  type BucketInput,
} from './billing-report';

const bucket = (over: Partial<BucketInput>): BucketInput => ({
  customerId: 'C1',
  customerName: 'Contoso Dental',
  serviceId: 'S-1001',
  tenantDomain: 'contoso.onmicrosoft.com',
  productId: 'p-1',
  productName: 'Office 365 E3',
  lines: 2,
  records: 2,
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

test('bucket export: documented columns, average unit price, empty when no units', () => {
  const rows = bucketExportRows('2026-10', 'AUD', [buckets[0]!, bucket({ units: '0' })]);
  assert.deepEqual(Object.keys(rows[0]!), [...BUCKET_EXPORT_COLUMNS]);
  assert.equal(rows[0]!.unitPrice, '2.4690');
  assert.equal(rows[1]!.unitPrice, '');
});

test('Xero: one invoice number per customer, Quantity 1 and the exact charge, dates dd/mm/yyyy, tax settings from configuration', () => {
  const numbers = new Map([
    [customerKey(buckets[0]!), 'HIT-202610-001'],
    [customerKey(buckets[2]!), 'HIT-202610-002'],
  ]);
  const rows = xeroRows('2026-10', 'AUD', { accountCode: '210', taxType: 'OUTPUT', dueDays: 14 }, numbers, buckets);
  assert.deepEqual(Object.keys(rows[0]!), [...XERO_COLUMNS]);
  assert.deepEqual(
    rows.map((r) => [r['*InvoiceNumber'], r['*ContactName'], r['*UnitAmount'], r['*Quantity']]),
    [
      ['HIT-202610-001', 'Contoso Dental', '12.3450', '1'],
      ['HIT-202610-001', 'Contoso Dental', '-3.8333', '1'],
      ['HIT-202610-002', 'Fabrikam', '0.0002', '1'],
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
