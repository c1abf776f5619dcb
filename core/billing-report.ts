import { Decimal, formatMoney } from './money';
import { addDays, lastDayOf } from './period';
import { xeroContactColumns, type CustomerContact } from './contact';

/**
 * The charges report, the bucket export and the Xero export, from the month's bucket rows
 * (service × product). Pure: exact decimals in, exact decimal strings out.
 *
 * Rounding where money leaves: a usage line's charge has 4 places. An invoice line is one
 * service × product for the month (one bucket row, one row of each export): the exact sum of its
 * entries (charges and credits) rounded once to cents, half away from zero (`invoicedAmount`). A
 * customer's invoice, and every `invoiced` figure of the report (a row's, the total), is the sum
 * of those invoice lines, never a rounding of a larger exact sum: an accounting package that
 * rounds each imported line to cents then computes exactly the report's figures.
 */
export interface BucketInput {
  customerId: string | null;
  customerName: string | null;
  serviceId: string;
  tenantDomain: string | null;
  productId: string;
  productName: string | null;
  lines: number;
  records: number;
  /** The distinct RecordIds billed in the bucket (charges and credits), sorted. */
  recordIds: readonly string[];
  units: string;
  cost: string;
  charge: string;
  margin: string;
  creditLines: number;
  credits: string;
  adjustmentLines: number;
}

export const REPORT_GROUPINGS = ['customer', 'service', 'product'] as const;
export type ReportGrouping = (typeof REPORT_GROUPINGS)[number];

/** A report row's figures, and the report's totals. */
export interface ReportFigures {
  lines: number;
  units: string;
  cost: string;
  charge: string;
  margin: string;
  /** What is invoiced: the sum of the invoice lines, each rounded once to cents (2 places). */
  invoiced: string;
  /** Margin as a percentage of the charge, 2 places; null when the charge is zero. */
  marginPercent: string | null;
  creditLines: number;
  credits: string;
  adjustmentLines: number;
}

export interface ReportRow extends ReportFigures {
  customer: string | null;
  service: string | null;
  tenantDomain: string | null;
  product: string | null;
  productId: string | null;
}

export interface ChargesReport {
  providerId: string;
  period: string;
  currency: string;
  by: ReportGrouping;
  /** `invoiced` here is the invoices' total: every invoice line, each rounded once to cents. */
  totals: ReportFigures;
  rows: ReportRow[];
}

const customerLabel = (b: BucketInput) => b.customerName ?? b.tenantDomain ?? b.serviceId;
const money = (d: Decimal) => formatMoney(d);

/** Cents, half away from zero, as a decimal (never "-0"). */
function roundCents(d: Decimal): Decimal {
  const r = d.toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
  return r.isZero() ? new Decimal(0) : r;
}

/**
 * One invoice line's amount: the exact sum of its entries (a bucket's `charge`), rounded once to
 * cents, half away from zero. Every invoiced figure is a sum of these.
 */
export function invoicedAmount(charge: string | Decimal): Decimal {
  return roundCents(new Decimal(charge));
}

const cents = (d: Decimal) => roundCents(d).toFixed(2);

function marginPercent(margin: Decimal, charge: Decimal): string | null {
  return charge.isZero()
    ? null
    : margin.dividedBy(charge).times(100).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
}

export function chargesReport(
  providerId: string,
  period: string,
  currency: string,
  by: ReportGrouping,
  buckets: readonly BucketInput[],
): ChargesReport {
  const groups = new Map<
    string,
    {
      row: Omit<ReportRow, 'units' | 'cost' | 'charge' | 'invoiced' | 'margin' | 'credits' | 'marginPercent'>;
      units: Decimal;
      cost: Decimal;
      charge: Decimal;
      invoiced: Decimal;
      margin: Decimal;
      credits: Decimal;
    }
  >();
  for (const b of buckets) {
    const key =
      by === 'customer'
        ? `c|${b.customerId ?? customerLabel(b)}`
        : by === 'service'
          ? `s|${b.serviceId}`
          : `p|${b.productId}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        row: {
          customer: by === 'product' ? null : customerLabel(b),
          service: by === 'service' ? b.serviceId : null,
          tenantDomain: by === 'service' ? b.tenantDomain : null,
          product: by === 'product' ? b.productName : null,
          productId: by === 'product' ? b.productId : null,
          lines: 0,
          creditLines: 0,
          adjustmentLines: 0,
        },
        units: new Decimal(0),
        cost: new Decimal(0),
        charge: new Decimal(0),
        invoiced: new Decimal(0),
        margin: new Decimal(0),
        credits: new Decimal(0),
      };
      groups.set(key, g);
    }
    g.row.lines += b.lines;
    g.row.creditLines += b.creditLines;
    g.row.adjustmentLines += b.adjustmentLines;
    g.units = g.units.plus(b.units);
    g.cost = g.cost.plus(b.cost);
    g.charge = g.charge.plus(b.charge);
    g.invoiced = g.invoiced.plus(invoicedAmount(b.charge));
    g.margin = g.margin.plus(b.margin);
    g.credits = g.credits.plus(b.credits);
  }
  const rows = [...groups.values()].map((g) => ({
    ...g.row,
    units: g.units.toFixed(),
    cost: money(g.cost),
    charge: money(g.charge),
    margin: money(g.margin),
    invoiced: cents(g.invoiced),
    marginPercent: marginPercent(g.margin, g.charge),
    credits: money(g.credits),
  }));
  const sum = (f: (b: BucketInput) => string) => buckets.reduce((a, b) => a.plus(f(b)), new Decimal(0));
  return {
    providerId,
    period,
    currency,
    by,
    totals: {
      lines: buckets.reduce((a, b) => a + b.lines, 0),
      units: sum((b) => b.units).toFixed(),
      cost: money(sum((b) => b.cost)),
      charge: money(sum((b) => b.charge)),
      margin: money(sum((b) => b.margin)),
      invoiced: cents(buckets.reduce((a, b) => a.plus(invoicedAmount(b.charge)), new Decimal(0))),
      marginPercent: marginPercent(
        sum((b) => b.margin),
        sum((b) => b.charge),
      ),
      creditLines: buckets.reduce((a, b) => a + b.creditLines, 0),
      credits: money(sum((b) => b.credits)),
      adjustmentLines: buckets.reduce((a, b) => a + b.adjustmentLines, 0),
    },
    rows,
  };
}

/** Human output: 2 places, half away from zero (the exact 4-place values are in --json/--csv). */
export function twoPlaces(amount: string): string {
  return cents(new Decimal(amount));
}

/**
 * A report row's (or the totals') currency figures as people see them (CLI table, console):
 * the charge is what is invoiced (`invoiced`, a sum of invoice lines rounded once each), the cost
 * and credits are rounded to cents, and the margin is the charge shown minus the cost shown, so
 * the figures on screen add up as printed.
 */
export function shownFigures(r: Pick<ReportRow, 'cost' | 'invoiced' | 'credits'>): {
  cost: string;
  charge: string;
  margin: string;
  credits: string;
} {
  const cost = roundCents(new Decimal(r.cost));
  const charge = new Decimal(r.invoiced);
  return {
    cost: cost.toFixed(2),
    charge: charge.toFixed(2),
    margin: cents(charge.minus(cost)),
    credits: twoPlaces(r.credits),
  };
}

/** The bucket export (`--format csv`): one row per service × product. Columns, in order: */
export const BUCKET_EXPORT_COLUMNS = [
  'period',
  'customer',
  'customerId',
  'serviceId',
  'tenantDomain',
  'product',
  'productId',
  'units',
  'unitPrice',
  'charge',
  'invoiced',
  'currency',
  'recordIds',
  'lines',
] as const;

export function bucketExportRows(
  period: string,
  currency: string,
  buckets: readonly BucketInput[],
): Array<Record<(typeof BUCKET_EXPORT_COLUMNS)[number], string>> {
  return buckets.map((b) => {
    const units = new Decimal(b.units);
    return {
      period,
      customer: customerLabel(b),
      customerId: b.customerId ?? '',
      serviceId: b.serviceId,
      tenantDomain: b.tenantDomain ?? '',
      product: b.productName ?? '',
      productId: b.productId,
      units: units.toFixed(),
      // The average price per unit over the month; the charge is the exact figure to bill.
      unitPrice: units.isZero() ? '' : money(new Decimal(b.charge).dividedBy(units)),
      charge: money(new Decimal(b.charge)),
      // The invoice line: the exact charge rounded once to cents (what Xero's import carries).
      invoiced: cents(invoicedAmount(b.charge)),
      currency,
      // The RecordIds themselves (space-separated, sorted), so each row can be traced to its lines.
      recordIds: b.recordIds.join(' '),
      lines: String(b.lines),
    };
  });
}

/**
 * Xero's sales-invoice import columns (its documented template; * marks the required ones).
 */
export const XERO_COLUMNS = [
  '*ContactName',
  'EmailAddress',
  'POAddressLine1',
  'POAddressLine2',
  'POAddressLine3',
  'POAddressLine4',
  'POCity',
  'PORegion',
  'POPostalCode',
  'POCountry',
  '*InvoiceNumber',
  'Reference',
  '*InvoiceDate',
  '*DueDate',
  'Total',
  'InventoryItemCode',
  '*Description',
  '*Quantity',
  '*UnitAmount',
  'Discount',
  '*AccountCode',
  '*TaxType',
  'TaxAmount',
  'TrackingName1',
  'TrackingOption1',
  'TrackingName2',
  'TrackingOption2',
  'Currency',
  'BrandingTheme',
] as const;

/** Xero's account codes: letters and digits, at most 10 (e.g. 200). */
export const XERO_ACCOUNT_CODE = /^[A-Za-z0-9]{1,10}$/;

/** What is wrong with an account code (the rule), or null when Xero would take it. */
export function xeroAccountCodeProblem(code: string): string | null {
  return XERO_ACCOUNT_CODE.test(code) ? null : `must be Xero's account code: 1 to 10 letters or digits (e.g. 200)`;
}

export interface XeroSettings {
  accountCode: string;
  taxType: string;
  dueDays: number;
}

/** The customer an invoice is for: the carrier's customer id, else the service. */
export function customerKey(b: Pick<BucketInput, 'customerId' | 'serviceId'>): string {
  return b.customerId ? `customer:${b.customerId}` : `service:${b.serviceId}`;
}

/** dd/mm/yyyy: the date format Xero's import expects for Australian and New Zealand organisations. */
function xeroDate(iso: string): string {
  const [y, m, d] = iso.split('-');
  return `${d}/${m}/${y}`;
}

/**
 * One invoice per customer (all its services' lines), dated the month's last day. Each line is
 * one service × product: its invoice line amount (the exact ex-GST charge rounded once to cents,
 * `invoicedAmount`) as UnitAmount with Quantity 1, so Xero's own line amount (Quantity ×
 * UnitAmount, rounded to cents) is that amount and its invoice totals equal the report's
 * `invoiced` figures to the cent. A 4-place UnitAmount would not: Xero rounds each line, and
 * lines rounded one by one drift from their exact sum. Units and line counts are in the description.
 */
export function xeroRows(
  period: string,
  currency: string,
  settings: XeroSettings,
  numbers: ReadonlyMap<string, string>,
  buckets: readonly BucketInput[],
  /** Each customer's email and postal address, by customer key, where known. */
  contacts: ReadonlyMap<string, CustomerContact> = new Map(),
): Array<Record<(typeof XERO_COLUMNS)[number], string>> {
  const invoiceDate = lastDayOf(period);
  const dueDate = addDays(invoiceDate, settings.dueDays);
  const empty = Object.fromEntries(XERO_COLUMNS.map((c) => [c, ''])) as Record<(typeof XERO_COLUMNS)[number], string>;
  const ordered = [...buckets].sort((a, b) => {
    const na = numbers.get(customerKey(a)) ?? '';
    const nb = numbers.get(customerKey(b)) ?? '';
    return na.localeCompare(nb) || a.serviceId.localeCompare(b.serviceId) || a.productId.localeCompare(b.productId);
  });
  return ordered.map((b) => {
    const number = numbers.get(customerKey(b));
    if (!number) throw new Error(`no invoice number for customer ${customerKey(b)}`);
    return {
      ...empty,
      '*ContactName': customerLabel(b),
      ...xeroContactColumns(contacts.get(customerKey(b))),
      '*InvoiceNumber': number,
      Reference: `Microsoft 365 ${period}`,
      '*InvoiceDate': xeroDate(invoiceDate),
      '*DueDate': xeroDate(dueDate),
      '*Description': `${b.productName ?? b.productId} for ${b.tenantDomain ?? b.serviceId} (${b.serviceId}), ${period}: ${new Decimal(b.units).toFixed()} units, ${b.lines} usage lines`,
      '*Quantity': '1',
      '*UnitAmount': cents(invoicedAmount(b.charge)),
      '*AccountCode': settings.accountCode,
      '*TaxType': settings.taxType,
      Currency: currency,
    };
  });
}
