/**
 * Reconciliation classes, report shape and its one-line summary: no decimal arithmetic here, so
 * workflow code can use it (the arithmetic is in reconciliation.ts).
 */
export const RECONCILIATION_CLASSES = [
  'MATCHED',
  'NOT_IN_FEED',
  'AMOUNT_DIFFERS',
  'NOT_ON_INVOICE',
  'REPEATED_ON_INVOICE',
] as const;
export type ReconciliationClass = (typeof RECONCILIATION_CLASSES)[number];

export interface InvoiceLineInput {
  /** RecordId as written on the invoice. */
  recordId: string;
  /** SubTotal as written on the invoice (exact decimal text). */
  subTotal: string;
  /** Who and what the line is for, as the invoice names them (for people; not compared). */
  customer?: string | null;
  product?: string | null;
}

export interface ReceivedLineInput {
  recordId: string;
  /** SubTotal of each version of the line the feed delivered (a revision adds a version). */
  subTotal: string;
  customer?: string | null;
  product?: string | null;
}

/**
 * Reconciliation figures are exact sums, each rounded once where it is shown: a class's
 * `difference` is the exact sum of its lines' differences and its `differenceCents` that sum
 * rounded once to cents (half away from zero); the overall `difference` is the exact sum of the
 * classes' (so of every line's) and `differenceCents` that rounded once. Cents are never added up:
 * per-line cents drift from the exact sum (a few hundred lines, a few cents).
 */
export interface ClassTotals {
  lines: number;
  /** Sum of the lines' SubTotal (the invoice's for invoice lines, the feed's for NOT_ON_INVOICE), exact. */
  subTotal: string;
  /**
   * Invoiced minus received over the class, exact (decimal text). Absent from reports stored
   * before it was kept.
   */
  difference?: string;
  /** `difference` rounded once to cents, half away from zero. */
  differenceCents: number;
}

export interface ReconciledLine {
  recordId: string;
  class: ReconciliationClass;
  /** The carrier's customer name and product (offer name, else ProductId) of the line, when known. */
  customer?: string | null;
  product?: string | null;
  invoiced: string | null;
  received: string | null;
  /** Invoiced minus received for this line, exact (decimal text). */
  difference?: string;
  /** `difference` rounded once to cents. */
  differenceCents: number;
}

export interface Reconciliation {
  classes: Record<ReconciliationClass, ClassTotals>;
  /** Invoiced minus received over every line, exact: the sum of the classes' exact differences. */
  difference: string;
  /** `difference` rounded once to cents, half away from zero. */
  differenceCents: number;
  invoiceLines: number;
  /** Every line not MATCHED, for the admin to look at. */
  differences: ReconciledLine[];
}

export function centsText(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** The reconciliation as reported (CLI --json, workflow result): counts, sums and the difference. */
export interface ReconciliationReport {
  providerId: string;
  period: string;
  invoiceId: string;
  /** Hash of the invoice's lines as received: one stored report per invoice version. */
  version: string;
  currency: string;
  invoiceLines: number;
  classes: Record<ReconciliationClass, ClassTotals>;
  /** `difference` rounded once to cents (half away from zero). */
  differenceCents: number;
  /**
   * Invoiced minus received over every line, exact (decimal text), in the provider's currency.
   * (Reports stored before exact differences were kept hold the cents here, e.g. "-12.34".)
   */
  difference: string;
  /** The lines that are not MATCHED (at most DIFFERENCES_SHOWN; the count says how many in all). */
  differences: ReconciledLine[];
  differencesTotal: number;
}

export const DIFFERENCES_SHOWN = 100;

export function reconciliationSummary(
  r: Pick<ReconciliationReport, 'invoiceId' | 'period' | 'classes' | 'differenceCents' | 'currency'>,
): string {
  const parts = RECONCILIATION_CLASSES.filter((c) => r.classes[c].lines > 0).map((c) => `${r.classes[c].lines} ${c}`);
  return `invoice ${r.invoiceId} (${r.period}): difference ${centsText(r.differenceCents)} ${r.currency}; ${parts.join(', ') || 'no lines'}`;
}

/**
 * The report as stored per invoice version: beside what the workflow returns, the invoice's
 * NOT_IN_FEED rows to mediate and every differing line (the dispute list; reports stored before it
 * was kept have only the first DIFFERENCES_SHOWN, in `differences`).
 */
export interface StoredReconciliationReport extends ReconciliationReport {
  notInFeedRows: Array<Record<string, string>>;
  disputes?: ReconciledLine[];
}
