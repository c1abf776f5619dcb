import type { Pool, PoolClient } from './pool';
import { inTransaction } from './pool';

type Queryable = Pool | PoolClient;

/** How a provider's charges go into its invoicing system (Xero sales invoices). */
export interface InvoicingSettings {
  accountCode: string;
  taxType: string;
  invoicePrefix: string;
  dueDays: number;
  /** false: nobody configured the provider yet; these are the documented defaults. */
  configured: boolean;
}

/**
 * Defaults until an admin configures the provider: Xero's sales account 200 and its GST-on-income
 * tax type for the provider's country (OUTPUT in Australia, OUTPUT2 in New Zealand).
 */
export function defaultInvoicing(currency: string): InvoicingSettings {
  return {
    accountCode: '200',
    taxType: currency === 'NZD' ? 'OUTPUT2' : 'OUTPUT',
    invoicePrefix: 'CSP',
    dueDays: 14,
    configured: false,
  };
}

export async function invoicingSettings(
  db: Queryable,
  providerId: string,
  currency: string,
): Promise<InvoicingSettings> {
  const res = await db.query<{ account_code: string; tax_type: string; invoice_prefix: string; due_days: number }>(
    'SELECT account_code, tax_type, invoice_prefix, due_days FROM provider_invoicing WHERE provider_id = $1',
    [providerId],
  );
  const r = res.rows[0];
  if (!r) return defaultInvoicing(currency);
  return {
    accountCode: r.account_code,
    taxType: r.tax_type,
    invoicePrefix: r.invoice_prefix,
    dueDays: r.due_days,
    configured: true,
  };
}

export async function saveInvoicingSettings(
  db: Queryable,
  providerId: string,
  s: Omit<InvoicingSettings, 'configured'>,
  by: string,
): Promise<void> {
  await db.query(
    `INSERT INTO provider_invoicing (provider_id, account_code, tax_type, invoice_prefix, due_days, updated_by) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (provider_id) DO UPDATE SET account_code = $2, tax_type = $3, invoice_prefix = $4, due_days = $5, updated_by = $6, updated_at = now()`,
    [providerId, s.accountCode, s.taxType, s.invoicePrefix, s.dueDays, by],
  );
}

/**
 * Invoice numbers per customer for a month: assigned once (prefix-YYYYMM-NNN, in customer order
 * at first export) and reused by every later export, so re-importing never duplicates an invoice.
 */
export async function invoiceNumbers(
  pool: Pool,
  providerId: string,
  period: string,
  prefix: string,
  customerKeys: string[],
): Promise<Map<string, string>> {
  return inTransaction(pool, async (db) => {
    await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`invoice-numbers:${providerId}:${period}`]);
    const known = await db.query<{ customer_key: string; invoice_number: string }>(
      'SELECT customer_key, invoice_number FROM export_invoice_number WHERE provider_id = $1 AND period = $2',
      [providerId, period],
    );
    const map = new Map(known.rows.map((r) => [r.customer_key, r.invoice_number]));
    let next = known.rows.length + 1;
    for (const key of customerKeys) {
      if (map.has(key)) continue;
      const number = `${prefix}-${period.replace('-', '')}-${String(next++).padStart(3, '0')}`;
      await db.query(
        'INSERT INTO export_invoice_number (provider_id, period, customer_key, invoice_number) VALUES ($1, $2, $3, $4)',
        [providerId, period, key, number],
      );
      map.set(key, number);
    }
    return map;
  });
}
