import { isLosslessNumber, parse } from 'lossless-json';
import DecimalJs from 'decimal.js';
import { guidFor } from './random';
import { previousMonth, type Dataset, type SimProvider } from './dataset';

/**
 * The carrier's monthly invoices, following its usage feed: every line the feed delivers for the
 * month, once per RecordId (a line sent again is invoiced once; a revised line at its revised
 * amount), plus a few deliberate differences of each reconciliation class, planted at fixed
 * positions so tests know exactly what a reconciliation must find.
 */
export const INVOICE_COLUMNS = [
  'RecordId',
  'TenantId',
  'CustomerName',
  'PrimaryDomainName',
  'SubscriptionId',
  'ProductId',
  'OfferName',
  'ChargeStartDate',
  'ChargeEndDate',
  'UnitPrice',
  'UnitPriceRrp',
  'Quantity',
  'BillableRatio',
  'SubTotal',
  'SubTotalRrp',
  'Currency',
  'BillingCycle',
] as const;

export type PlantedClass = 'NOT_IN_FEED' | 'AMOUNT_DIFFERS' | 'NOT_ON_INVOICE' | 'REPEATED_ON_INVOICE';

export interface SimInvoice {
  invoiceId: string;
  month: string;
  rows: Array<Record<string, string>>;
  /** RecordIds of the deliberate differences, per class; every other line matches the feed. */
  planted: Record<PlantedClass, string[]>;
  /** The planted difference in cents (invoiced minus delivered), per class. */
  plantedCents: Record<PlantedClass, number>;
}

/** Added to a line's SubTotal for an AMOUNT_DIFFERS line. */
export const AMOUNT_DIFFERENCE = '1.25';
/** One eligible line in this many gets each planted difference (at its own offset). */
const PLANT_EVERY = 37;
const PLANT_AT: Record<PlantedClass, number> = {
  NOT_ON_INVOICE: 3,
  AMOUNT_DIFFERS: 11,
  REPEATED_ON_INVOICE: 19,
  NOT_IN_FEED: 27,
};
// Lines the first usage lines use to show every outcome are never planted on.
const FIRST_PLANTABLE = 11;

/** Months with an invoice: the three before the current usage month (only the last has usage). */
export function invoiceMonths(dataset: Dataset): string[] {
  const one = previousMonth(dataset.usageMonth);
  const two = previousMonth(one);
  return [one, two, previousMonth(two)];
}

export function invoiceIdFor(provider: SimProvider, month: string): string {
  return `INV-${provider.index}-${month}`;
}

export function parseInvoiceId(invoiceId: string): { providerIndex: number; month: string } | null {
  const m = /^INV-(\d+)-(\d{4}-\d{2})$/.exec(invoiceId);
  return m ? { providerIndex: Number(m[1]), month: m[2]! } : null;
}

const D = DecimalJs.clone({ precision: 60 });

function row(json: string): Record<string, string> {
  const line = parse(json) as Record<string, unknown>;
  return Object.fromEntries(
    INVOICE_COLUMNS.map((c) => {
      const v = line[c];
      return [c, v === null || v === undefined ? '' : isLosslessNumber(v) ? v.value : `${v as string | boolean}`];
    }),
  );
}

export function buildInvoice(dataset: Dataset, provider: SimProvider, month: string): SimInvoice {
  const p = provider.index;
  const planted: SimInvoice['planted'] = {
    NOT_IN_FEED: [],
    AMOUNT_DIFFERS: [],
    NOT_ON_INVOICE: [],
    REPEATED_ON_INVOICE: [],
  };
  const plantedCents: SimInvoice['plantedCents'] = {
    NOT_IN_FEED: 0,
    AMOUNT_DIFFERS: 0,
    NOT_ON_INVOICE: 0,
    REPEATED_ON_INVOICE: 0,
  };
  const cents = (amount: string) => new D(amount).times(100).toDecimalPlaces(0, DecimalJs.ROUND_HALF_UP).toNumber();
  // Each RecordId once, in feed order; a revision replaces the line it revises.
  const byRecord = new Map<string, { index: number; row: Record<string, string> }>();
  const [from, to] =
    month === previousMonth(dataset.usageMonth) || month === dataset.usageMonth
      ? dataset.indexRange(provider, `${month}-01`, `${month}-28`)
      : [0, 0];
  for (let i = from; i < to; i++) {
    const r = row(dataset.usageLineJson(p, i));
    const known = byRecord.get(r.RecordId!);
    byRecord.set(r.RecordId!, { index: known?.index ?? i, row: r });
  }
  const kindOf = (i: number) => (i < provider.usageRecords ? dataset.lineKind(p, i) : 'normal');
  // Plain billable lines whose RecordId nothing else in the feed touches.
  const plantable = (i: number) =>
    i >= FIRST_PLANTABLE &&
    ['normal', 'credit'].includes(kindOf(i)) &&
    !['repeat', 'revision'].includes(i + 1 < to ? kindOf(i + 1) : 'normal');

  const rows: Array<Record<string, string>> = [];
  let eligible = 0;
  for (const { index, row: r } of byRecord.values()) {
    const slot = plantable(index) ? eligible++ % PLANT_EVERY : -1;
    if (slot === PLANT_AT.NOT_ON_INVOICE) {
      planted.NOT_ON_INVOICE.push(r.RecordId!);
      plantedCents.NOT_ON_INVOICE -= cents(r.SubTotal!);
      continue;
    }
    if (slot === PLANT_AT.AMOUNT_DIFFERS) {
      planted.AMOUNT_DIFFERS.push(r.RecordId!);
      const changed = new D(r.SubTotal!).plus(AMOUNT_DIFFERENCE);
      plantedCents.AMOUNT_DIFFERS += cents(changed.toFixed()) - cents(r.SubTotal!);
      rows.push({ ...r, SubTotal: changed.toFixed() });
      continue;
    }
    rows.push(r);
    if (slot === PLANT_AT.REPEATED_ON_INVOICE) {
      planted.REPEATED_ON_INVOICE.push(r.RecordId!);
      plantedCents.REPEATED_ON_INVOICE += cents(r.SubTotal!);
      rows.push({ ...r });
    }
    if (slot === PLANT_AT.NOT_IN_FEED) {
      // Usage the feed never delivered: a line like this one, its own RecordId.
      const recordId = guidFor(dataset.seed, 41, p, index);
      planted.NOT_IN_FEED.push(recordId);
      plantedCents.NOT_IN_FEED += cents(r.SubTotal!);
      rows.push({ ...r, RecordId: recordId });
    }
  }
  return { invoiceId: invoiceIdFor(provider, month), month, rows, planted, plantedCents };
}

function csvCell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function invoiceCsv(invoice: SimInvoice): string {
  const lines = [
    INVOICE_COLUMNS.join(','),
    ...invoice.rows.map((r) => INVOICE_COLUMNS.map((c) => csvCell(r[c] ?? '')).join(',')),
  ];
  return lines.join('\r\n') + '\r\n';
}

/** GET /api/v2/invoices: the provider's invoices. */
export function invoiceList(dataset: Dataset, provider: SimProvider) {
  return {
    Records: invoiceMonths(dataset).map((month) => ({
      InvoiceId: invoiceIdFor(provider, month),
      BillingPeriodStart: `${month}-01T00:00:00+00:00`,
      UsageYear: Number(month.slice(0, 4)),
      UsageMonth: Number(month.slice(5, 7)),
    })),
  };
}
