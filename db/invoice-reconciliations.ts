import type { Pool, PoolClient } from './pool';

type Queryable = Pool | PoolClient;

/** Usage lines of invoices' NOT_IN_FEED lines carry this as their first "cycle": they came from the invoice. */
export const INVOICE_SOURCE_PREFIX = 'invoice:';

/**
 * What the feed delivered for a month (every version of every line, by RecordId), for
 * reconciliation, with the carrier's customer name and product to show. Lines fed into mediation from an invoice are not the feed's and are left out,
 * so a second run classifies them as the first did.
 */
export async function receivedLinesForPeriod(
  db: Queryable,
  providerId: string,
  period: string,
): Promise<Array<{ recordId: string; subTotal: string; customer: string | null; product: string | null }>> {
  const res = await db.query<{ recordId: string; subTotal: string; customer: string | null; product: string | null }>(
    `SELECT record_key AS "recordId", coalesce(sub_total, 0)::text AS "subTotal",
            raw::jsonb ->> 'CustomerName' AS customer, coalesce(raw::jsonb ->> 'OfferName', raw::jsonb ->> 'ProductId') AS product
       FROM usage_line
      WHERE provider_id = $1 AND left(charge_start, 7) = $2 AND record_key <> '' AND first_cycle_id NOT LIKE 'invoice:%'
      ORDER BY id`,
    [providerId, period],
  );
  return res.rows;
}

export interface StoredReconciliation<R> {
  id: number;
  providerId: string;
  invoiceId: string;
  period: string;
  version: string;
  report: R;
  differenceCents: number;
  workflowId: string | null;
  createdAt: Date;
  /** false when this invoice version had been reconciled before: the stored result is returned. */
  created: boolean;
}

interface Row<R> {
  id: number;
  provider_id: string;
  invoice_id: string;
  period: string;
  version: string;
  report: R;
  difference_cents: number;
  workflow_id: string | null;
  created_at: Date;
}

const toStored = <R>(r: Row<R>, created: boolean): StoredReconciliation<R> => ({
  id: r.id,
  providerId: r.provider_id,
  invoiceId: r.invoice_id,
  period: r.period,
  version: r.version,
  report: r.report,
  differenceCents: Number(r.difference_cents),
  workflowId: r.workflow_id,
  createdAt: r.created_at,
  created,
});

/** Stores the reconciliation of one invoice version once; a repeat returns the first one stored. */
export async function storeReconciliation<R>(
  db: Queryable,
  r: {
    providerId: string;
    invoiceId: string;
    period: string;
    version: string;
    invoiceLines: number;
    report: R;
    differenceCents: number;
    workflowId: string | null;
  },
): Promise<StoredReconciliation<R>> {
  const inserted = await db.query<Row<R>>(
    `INSERT INTO invoice_reconciliation (provider_id, invoice_id, period, version, invoice_lines, report, difference_cents, workflow_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (provider_id, invoice_id, version) DO NOTHING RETURNING *`,
    [
      r.providerId,
      r.invoiceId,
      r.period,
      r.version,
      r.invoiceLines,
      JSON.stringify(r.report),
      r.differenceCents,
      r.workflowId,
    ],
  );
  if (inserted.rows[0]) return toStored(inserted.rows[0], true);
  const existing = await db.query<Row<R>>(
    'SELECT * FROM invoice_reconciliation WHERE provider_id = $1 AND invoice_id = $2 AND version = $3',
    [r.providerId, r.invoiceId, r.version],
  );
  return toStored(existing.rows[0]!, false);
}

export async function getReconciliation<R>(db: Queryable, id: number): Promise<StoredReconciliation<R> | null> {
  const res = await db.query<Row<R>>('SELECT * FROM invoice_reconciliation WHERE id = $1', [id]);
  return res.rows[0] ? toStored(res.rows[0], false) : null;
}

export async function listReconciliations<R>(
  db: Queryable,
  providerId: string,
  period?: string,
): Promise<Array<StoredReconciliation<R>>> {
  const res = await db.query<Row<R>>(
    'SELECT * FROM invoice_reconciliation WHERE provider_id = $1 AND ($2::text IS NULL OR period = $2) ORDER BY period, id',
    [providerId, period ?? null],
  );
  return res.rows.map((r) => toStored(r, false));
}

/** The figure an admin must look at (null: the latest reconciliation agrees with the invoice). */
export async function setInvoiceAttention(db: Queryable, providerId: string, attention: string | null): Promise<void> {
  await db.query('UPDATE provider SET invoice_attention = $2, updated_at = now() WHERE id = $1', [
    providerId,
    attention,
  ]);
}

export async function countInvoiceLinesMediated(
  db: Queryable,
  providerId: string,
  invoiceId: string,
): Promise<{ lines: number; billed: number; quarantined: number }> {
  const res = await db.query<{ lines: number; billed: number; quarantined: number }>(
    `SELECT count(*)::int AS lines, count(*) FILTER (WHERE status = 'COMPLETED')::int AS billed, count(*) FILTER (WHERE status = 'QUARANTINED')::int AS quarantined
       FROM usage_line WHERE provider_id = $1 AND first_cycle_id = $2`,
    [providerId, `${INVOICE_SOURCE_PREFIX}${invoiceId}`],
  );
  return res.rows[0]!;
}

/**
 * Product names by product GUID, from the provider's licences, for lines that name a product only
 * by its GUID (the line's own offer name is used when it has one).
 */
export async function productNamesOf(
  db: Queryable,
  providerId: string,
  productIds: readonly string[],
): Promise<Map<string, string>> {
  if (productIds.length === 0) return new Map();
  const res = await db.query<{ productId: string; name: string }>(
    `SELECT product_id AS "productId", min(product_name) AS name FROM licence
      WHERE provider_id = $1 AND product_id = ANY($2::text[]) AND product_name IS NOT NULL
      GROUP BY product_id`,
    [providerId, [...new Set(productIds)]],
  );
  return new Map(res.rows.map((r) => [r.productId, r.name]));
}
