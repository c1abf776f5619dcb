import { writeFileSync } from 'node:fs';
import type { Pool } from '../db/pool';
import { toCsv } from './csv';
import { bucketRows, type BucketRow } from '../db/charges';
import { invoiceNumbers, invoicingSettings } from '../db/invoicing';
import { getReconciliation, productNamesOf, type StoredReconciliation } from '../db/invoice-reconciliations';
import type { ProviderRow } from '../db/providers';
import {
  BUCKET_EXPORT_COLUMNS,
  XERO_COLUMNS,
  chargesReport,
  customerKey,
  bucketExportRows,
  xeroRows,
  type ChargesReport,
  type ReportGrouping,
} from '../core/billing-report';
import { DISPUTE_COLUMNS, disputeRows, type DisputeRow, type StoredReconciliationReport } from '../core/reconciliation';
import { isGuid } from '../core/guid';
import { effectiveContact } from '../core/contact';
import { customerContacts } from '../db/customer-contacts';

/** The month's charges report (the misc usage bucket, readable). */
export async function buildChargesReport(
  db: Pool,
  provider: Pick<ProviderRow, 'id' | 'currency'>,
  period: string,
  by: ReportGrouping,
): Promise<ChargesReport> {
  return chargesReport(provider.id, period, provider.currency, by, await bucketRows(db, provider.id, period));
}

export type ExportFormat = 'csv' | 'xero';

/**
 * The month's charges as CSV for an invoicing system. Nothing in it depends on when it is
 * produced (no timestamps; stored invoice numbers; a fixed order), so a closed month's export is
 * byte-identical every time.
 */
export async function buildExport(
  db: Pool,
  provider: Pick<ProviderRow, 'id' | 'currency'>,
  period: string,
  format: ExportFormat,
): Promise<string> {
  const buckets = await bucketRows(db, provider.id, period);
  if (format === 'csv') {
    return toCsv(bucketExportRows(period, provider.currency, buckets), BUCKET_EXPORT_COLUMNS);
  }
  return (await xeroExport(db, provider, period, buckets)).csv;
}

/**
 * The Xero sales-invoice import of a month's charges, and the customers it carries with no email
 * address (Xero cannot email their invoices: the CLI says so and names them).
 */
export async function xeroExport(
  db: Pool,
  provider: Pick<ProviderRow, 'id' | 'currency'>,
  period: string,
  read?: BucketRow[],
): Promise<{ csv: string; withoutEmail: string[] }> {
  const buckets = read ?? (await bucketRows(db, provider.id, period));
  const settings = await invoicingSettings(db, provider.id, provider.currency);
  const names = new Map(buckets.map((b) => [customerKey(b), b.customerName ?? b.tenantDomain ?? b.serviceId]));
  const customers = [...names.entries()]
    .sort(([ka, a], [kb, b]) => a.localeCompare(b) || ka.localeCompare(kb))
    .map(([k]) => k);
  const numbers = await invoiceNumbers(db, provider.id, period, settings.invoicePrefix, customers);
  const stored = await customerContacts(db, provider.id, customers);
  const contacts = new Map([...stored].map(([k, c]) => [k, effectiveContact(c.carrier, c.admin)]));
  return {
    csv: toCsv(xeroRows(period, provider.currency, settings, numbers, buckets, contacts), XERO_COLUMNS),
    withoutEmail: customers.filter((k) => !contacts.get(k)?.email).map((k) => names.get(k)!),
  };
}

export function writeOut(text: string, file: string | undefined): void {
  if (file) writeFileSync(file, text);
  else process.stdout.write(text);
}

/**
 * The dispute list of a stored reconciliation: every differing line (customer, product by name
 * where known, invoiced, received, difference to the cent), to send to the carrier. Null when no
 * such reconciliation of this provider exists.
 */
export async function disputeList(
  db: Pool,
  providerId: string,
  reconciliationId: number,
): Promise<{ stored: StoredReconciliation<StoredReconciliationReport>; rows: DisputeRow[] } | null> {
  const stored = await getReconciliation<StoredReconciliationReport>(db, reconciliationId);
  if (!stored || stored.providerId !== providerId) return null;
  const lines = stored.report.disputes ?? stored.report.differences;
  const guids = lines.flatMap((l) => (l.product && isGuid(l.product) ? [l.product.toLowerCase()] : []));
  const names = await productNamesOf(db, providerId, guids);
  return { stored, rows: disputeRows(lines, (id) => names.get(id) ?? null) };
}

/** The dispute list as CSV (`RecordId,class,customer,product,invoiced,received,difference`). */
export function disputeCsv(rows: readonly DisputeRow[]): string {
  return toCsv(rows, DISPUTE_COLUMNS);
}
