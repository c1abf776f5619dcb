import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../context';
import { requireProvider } from '../lookup';
import { printRows } from '../output';
import { displayMoney } from '../display';
import { UserError } from '../errors';
import { requirePeriod } from './billing';
import { ReconciliationFailed, runInvoiceReconciliation } from '../../workflows/invoice-reconciliation.api';
import type { InvoiceReconciliationResult } from '../../workflows/invoice-reconciliation.api';
import { listReconciliations } from '../../db/invoice-reconciliations';
import { disputeCsv, disputeList } from '../month-end';
import { RECONCILIATION_CLASSES, centsText, type ReconciliationReport } from '../../core/reconciliation-report';

/**
 * `invoice reconcile --json`: the shape scripts depend on (issue #15), plus the detail. Each class
 * carries its exact `difference` (decimal text) beside `differenceCents` (that rounded once); the
 * top level carries the exact overall `difference` (the sum of the classes') and its cents.
 * Reports stored before exact differences were kept have no class `difference` (null here) and
 * the overall cents as `difference`.
 */
export function reconcileJson(r: InvoiceReconciliationResult) {
  return {
    providerId: r.providerId,
    period: r.period,
    invoiceId: r.invoiceId,
    classes: Object.fromEntries(
      RECONCILIATION_CLASSES.map((c) => [
        c,
        {
          lines: r.classes[c].lines,
          subTotal: r.classes[c].subTotal,
          difference: r.classes[c].difference ?? null,
          differenceCents: r.classes[c].differenceCents,
        },
      ]),
    ),
    differenceCents: r.differenceCents,
    difference: r.difference,
    currency: r.currency,
    version: r.version,
    invoiceLines: r.invoiceLines,
    notInFeedMediated: r.notInFeedMediated,
    differences: r.differences,
    differencesTotal: r.differencesTotal,
  };
}

export function invoiceCommands(program: Command, ctx: () => CliContext): void {
  const invoice = program
    .command('invoice')
    .description("the carrier's monthly invoices, reconciled against the usage received");

  invoice
    .command('reconcile')
    .description(
      "fetch the carrier's invoice for the month and classify every line: MATCHED, NOT_IN_FEED, AMOUNT_DIFFERS, NOT_ON_INVOICE, REPEATED_ON_INVOICE",
    )
    .requiredOption('--provider <provider>', 'provider id or name')
    .requiredOption('--period <YYYY-MM>', 'usage month of the invoice')
    .option('--json', 'print JSON')
    .option('--csv', 'print the dispute list (every line that differs) as CSV, to send to the carrier')
    .action(async (o) => {
      const period = requirePeriod(o.period);
      if (o.json && o.csv) throw new UserError('choose one of --json and --csv');
      const c = ctx();
      const db = await c.db();
      const provider = await requireProvider(db, o.provider);
      let run;
      try {
        run = await runInvoiceReconciliation(
          { temporal: await c.temporal(), taskQueue: c.cfg.TASK_QUEUE },
          provider.id,
          period,
        );
      } catch (err) {
        if (err instanceof ReconciliationFailed) throw new UserError(err.message);
        throw err;
      }
      if (run.status === 'running') {
        // Accepted: the same command later joins the run, or returns its stored report.
        process.stdout.write(
          o.json
            ? JSON.stringify({ accepted: true, running: true, workflowId: run.workflowId }) + '\n'
            : `accepted: ${run.workflowId} is still running; run the same command again for its report\n`,
        );
        return;
      }
      const result = run.result;
      if (o.csv) {
        const disputes = await disputeList(db, provider.id, result.reconciliationId);
        process.stdout.write(disputeCsv(disputes?.rows ?? []));
        return;
      }
      if (o.json) {
        process.stdout.write(JSON.stringify(reconcileJson(result), null, 2) + '\n');
        return;
      }
      process.stdout.write(`${result.summary}\nworkflow ${run.workflowId}\n\n`);
      // For people: 2 decimals with the currency (exact sums stay in --json). The subtotal and the
      // difference are each the class's exact sum rounded once.
      const cents = (n: number) => displayMoney(centsText(n), result.currency);
      printRows(
        RECONCILIATION_CLASSES.map((k) => ({
          class: k,
          lines: result.classes[k].lines,
          subTotal: displayMoney(result.classes[k].subTotal, result.currency),
          difference: cents(result.classes[k].differenceCents),
        })),
        false,
      );
      process.stdout.write(
        `\ndifference (invoiced − received): ${centsText(result.differenceCents)} ${result.currency}` +
          ' (each figure is its exact sum rounded once, so class rows can differ from it by a cent)\n',
      );
      const m = result.notInFeedMediated;
      if (m.lines > 0)
        process.stdout.write(
          `invoice-only lines mediated: ${m.lines} (${m.billed} billed, ${m.quarantined} quarantined)\n`,
        );
      if (result.differences.length > 0) {
        process.stdout.write('\n');
        // Each differing line: whose, what, and its amounts to the cent (exact ones in --json).
        const two = (v: string | null) => (v === null ? '' : displayMoney(v, result.currency));
        printRows(
          result.differences.map((d) => ({
            class: d.class,
            recordId: d.recordId,
            customer: d.customer ?? '',
            product: d.product ?? '',
            invoiced: two(d.invoiced),
            received: two(d.received),
            difference: d.difference !== undefined ? two(d.difference) : cents(d.differenceCents),
          })),
          false,
        );
        if (result.differencesTotal > result.differences.length) {
          process.stdout.write(
            `(the first ${result.differences.length} of the ${result.differencesTotal} lines that differ are listed; the class totals above count them all)\n`,
          );
        }
      }
    });

  invoice
    .command('list')
    .description('stored reconciliations (one per invoice version)')
    .requiredOption('--provider <provider>', 'provider id or name')
    .option('--period <YYYY-MM>', 'one month only')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const db = await ctx().db();
      const provider = await requireProvider(db, o.provider, { allowRemoved: true });
      const rows = await listReconciliations<ReconciliationReport>(
        db,
        provider.id,
        o.period ? requirePeriod(o.period) : undefined,
      );
      printRows(
        rows.map((r) => ({
          period: r.period,
          invoiceId: r.invoiceId,
          version: r.version.slice(0, 12),
          lines: r.report.invoiceLines,
          difference: `${centsText(r.differenceCents)} ${r.report.currency}`,
          at: r.createdAt,
          workflowId: r.workflowId,
        })),
        !!o.json,
        undefined,
        provider.time_zone,
      );
      if (!o.json && provider.invoice_attention)
        process.stdout.write(`\nneeds attention: ${provider.invoice_attention}\n`);
    });
}
