import { Decimal, parseDecimalText } from './money';
import { isGuid, normalizeGuid } from './guid';
import {
  RECONCILIATION_CLASSES,
  type ClassTotals,
  type InvoiceLineInput,
  type ReceivedLineInput,
  type ReconciledLine,
  type Reconciliation,
  type ReconciliationClass,
} from './reconciliation-report';

export * from './reconciliation-report';

/**
 * Invoice reconciliation (domain.md, "Month end"): every line of the carrier's monthly invoice,
 * and every usage line received for that month, falls in exactly one class.
 */
/** Amount in whole cents, half away from zero (the comparison domain.md asks for: "to the cent"). */
export function toCents(amount: Decimal): number {
  const cents = amount.times(100).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
  return cents === 0 ? 0 : cents;
}

/** An exact figure as decimal text: no exponent, no "-0". */
function exactText(d: Decimal): string {
  return d.isZero() ? '0' : d.toFixed();
}

/** RecordIds compare as GUIDs do (case-insensitively), otherwise as trimmed text. */
export const recordKeyOf = (recordId: string) => {
  const t = recordId.trim();
  return isGuid(t) ? normalizeGuid(t) : t;
};

function amount(text: string, what: string): Decimal {
  const d = parseDecimalText(text.trim());
  if (!d) throw new Error(`${what}: SubTotal "${text}" is not a decimal number`);
  return d;
}

/**
 * Classifies an invoice against what the feed delivered for the same month.
 * - the first invoice line of a RecordId: MATCHED when some received version has the same
 *   SubTotal to the cent, AMOUNT_DIFFERS when versions were received but none agrees (compared
 *   with the latest), NOT_IN_FEED when the RecordId never arrived;
 * - a further invoice line of the same RecordId: REPEATED_ON_INVOICE (charged again in full);
 * - a received RecordId the invoice does not carry: NOT_ON_INVOICE.
 */
export function reconcile(
  invoice: readonly InvoiceLineInput[],
  received: readonly ReceivedLineInput[],
): Reconciliation {
  const versions = new Map<string, Decimal[]>();
  const receivedAs = new Map<string, ReceivedLineInput>();
  for (const r of received) {
    const k = recordKeyOf(r.recordId);
    const list = versions.get(k) ?? [];
    list.push(amount(r.subTotal, `received line ${r.recordId}`));
    versions.set(k, list);
    receivedAs.set(k, r);
  }
  const sums = Object.fromEntries(
    RECONCILIATION_CLASSES.map((c) => [c, { lines: 0, subTotal: new Decimal(0), difference: new Decimal(0) }]),
  ) as Record<ReconciliationClass, { lines: number; subTotal: Decimal; difference: Decimal }>;
  const differences: ReconciledLine[] = [];
  // Each line's difference is kept exact; cents are only ever a rounding of an exact figure.
  const add = (line: Omit<ReconciledLine, 'difference' | 'differenceCents'>, sum: Decimal, difference: Decimal) => {
    const c = sums[line.class];
    c.lines++;
    c.subTotal = c.subTotal.plus(sum);
    c.difference = c.difference.plus(difference);
    if (line.class !== 'MATCHED')
      differences.push({ ...line, difference: exactText(difference), differenceCents: toCents(difference) });
  };
  const who = (l: { customer?: string | null; product?: string | null } | undefined) => ({
    customer: l?.customer ?? null,
    product: l?.product ?? null,
  });

  const onInvoice = new Set<string>();
  invoice.forEach((line, n) => {
    const k = recordKeyOf(line.recordId);
    if (k === '') throw new Error(`invoice line ${n + 1} has no RecordId`);
    const invoiced = amount(line.subTotal, `invoice line ${n + 1} (${line.recordId})`);
    const invoicedCents = toCents(invoiced);
    const base = {
      recordId: k,
      ...who(line.customer || line.product ? line : receivedAs.get(k)),
      invoiced: invoiced.toFixed(),
    };
    if (onInvoice.has(k)) {
      add({ ...base, class: 'REPEATED_ON_INVOICE', received: null }, invoiced, invoiced);
      return;
    }
    onInvoice.add(k);
    const got = versions.get(k);
    if (!got) {
      add({ ...base, class: 'NOT_IN_FEED', received: null }, invoiced, invoiced);
      return;
    }
    // Compared to the cent (the carrier's invoice and feed may write a line with other digits).
    const same = got.find((v) => toCents(v) === invoicedCents);
    if (same) {
      add({ ...base, class: 'MATCHED', received: same.toFixed() }, invoiced, new Decimal(0));
      return;
    }
    const latest = got[got.length - 1]!;
    add({ ...base, class: 'AMOUNT_DIFFERS', received: latest.toFixed() }, invoiced, invoiced.minus(latest));
  });

  for (const [k, got] of versions) {
    if (onInvoice.has(k)) continue;
    const latest = got[got.length - 1]!;
    add(
      { recordId: k, ...who(receivedAs.get(k)), class: 'NOT_ON_INVOICE', invoiced: null, received: latest.toFixed() },
      latest,
      latest.negated(),
    );
  }

  const classes = Object.fromEntries(
    RECONCILIATION_CLASSES.map((c) => [
      c,
      {
        lines: sums[c].lines,
        subTotal: sums[c].subTotal.toFixed(),
        difference: exactText(sums[c].difference),
        differenceCents: toCents(sums[c].difference),
      },
    ]),
  ) as Record<ReconciliationClass, ClassTotals>;
  // The overall difference is the exact sum of the classes' exact differences, rounded once.
  const difference = RECONCILIATION_CLASSES.reduce((a, c) => a.plus(sums[c].difference), new Decimal(0));
  differences.sort((a, b) => a.class.localeCompare(b.class) || a.recordId.localeCompare(b.recordId));
  return {
    classes,
    difference: exactText(difference),
    differenceCents: toCents(difference),
    invoiceLines: invoice.length,
    differences,
  };
}

/** Invoiced and received per class, exact: what the console's class table shows (rounded there). */
export interface ClassFigures {
  lines: number;
  invoiced: string;
  received: string;
  /** Invoiced minus received, exact; null for reports stored before exact differences were kept. */
  difference: string | null;
  differenceCents: number;
}

/**
 * A class's subTotal is the invoice's SubTotal for invoice lines and the feed's for NOT_ON_INVOICE
 * lines; what was received is what was invoiced less the difference.
 */
export function classFigures(
  classes: Record<ReconciliationClass, ClassTotals>,
): Record<ReconciliationClass, ClassFigures> {
  return Object.fromEntries(
    RECONCILIATION_CLASSES.map((c) => {
      const t = classes[c];
      const subTotal = amount(t.subTotal, `class ${c}`);
      const difference = t.difference === undefined ? null : amount(t.difference, `class ${c}`);
      const invoiced = c === 'NOT_ON_INVOICE' ? new Decimal(0) : subTotal;
      const received =
        c === 'NOT_ON_INVOICE'
          ? subTotal
          : difference === null
            ? invoiced.minus(new Decimal(t.differenceCents).dividedBy(100))
            : invoiced.minus(difference);
      return [
        c,
        {
          lines: t.lines,
          invoiced: exactText(invoiced),
          received: exactText(received),
          difference: difference === null ? null : exactText(difference),
          differenceCents: t.differenceCents,
        },
      ];
    }),
  ) as Record<ReconciliationClass, ClassFigures>;
}

/**
 * The classes' figures added up exactly: the table's total row. Each shown figure (a class's or
 * this total's) is its own exact sum rounded once, so rounded class rows may differ from the
 * total by a cent; the total's difference is the reconciliation's.
 */
export function classFiguresTotal(figures: Record<ReconciliationClass, ClassFigures>): ClassFigures {
  const all = RECONCILIATION_CLASSES.map((c) => figures[c]);
  const sum = (pick: (f: ClassFigures) => string) => all.reduce((a, f) => a.plus(new Decimal(pick(f))), new Decimal(0));
  const invoiced = sum((f) => f.invoiced);
  const received = sum((f) => f.received);
  const exact = all.every((f) => f.difference !== null);
  return {
    lines: all.reduce((n, f) => n + f.lines, 0),
    invoiced: exactText(invoiced),
    received: exactText(received),
    difference: exact ? exactText(invoiced.minus(received)) : null,
    differenceCents: exact ? toCents(invoiced.minus(received)) : all.reduce((n, f) => n + f.differenceCents, 0),
  };
}

/** The dispute list sent to the carrier: one row per differing line, in this column order. */
export const DISPUTE_COLUMNS = [
  'RecordId',
  'class',
  'customer',
  'product',
  'invoiced',
  'received',
  'difference',
] as const;
export type DisputeRow = Record<(typeof DISPUTE_COLUMNS)[number], string>;

/** An exact amount rounded once to 2 places, half away from zero (the invoice's own rounding). */
function twoPlaces(text: string | null | undefined): string {
  if (text === null || text === undefined) return '';
  return amount(text, 'amount').toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
}

/**
 * The differing lines (never MATCHED ones) as dispute rows: amounts rounded once to 2 places
 * from their exact values; a product the line names only by GUID gets its name where `nameOf`
 * knows it. A missing side (not on the invoice, not in the feed) is an empty cell.
 */
export function disputeRows(
  lines: readonly ReconciledLine[],
  nameOf: (product: string) => string | null = () => null,
): DisputeRow[] {
  return lines
    .filter((l) => l.class !== 'MATCHED')
    .map((l) => ({
      RecordId: l.recordId,
      class: l.class,
      customer: l.customer ?? '',
      product: l.product ? (isGuid(l.product) ? (nameOf(normalizeGuid(l.product)) ?? l.product) : l.product) : '',
      invoiced: twoPlaces(l.invoiced),
      received: twoPlaces(l.received),
      difference:
        l.difference !== undefined
          ? twoPlaces(l.difference)
          : twoPlaces(new Decimal(l.differenceCents).dividedBy(100).toFixed()),
    }));
}
