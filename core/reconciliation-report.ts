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
}

export interface ReceivedLineInput {
  recordId: string;
  /** SubTotal of each version of the line the feed delivered (a revision adds a version). */
  subTotal: string;
}

export interface ClassTotals {
  lines: number;
  /** Sum of the lines' SubTotal (the invoice's for invoice lines, the feed's for NOT_ON_INVOICE), exact. */
  subTotal: string;
  /** Invoiced minus received, in cents, over the class. */
  differenceCents: number;
}

export interface ReconciledLine {
  recordId: string;
  class: ReconciliationClass;
  invoiced: string | null;
  received: string | null;
  differenceCents: number;
}

export interface Reconciliation {
  classes: Record<ReconciliationClass, ClassTotals>;
  /** Invoiced minus received, in cents, over every line: the sum of the classes' differences. */
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
  differenceCents: number;
  /** The same in the provider's currency, e.g. "-12.34". */
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
