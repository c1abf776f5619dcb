import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../context';
import { requireProvider } from '../lookup';
import { printObject, printRows } from '../output';
import { UserError } from '../errors';
import { buildChargesReport, buildExport, writeOut, xeroExport, type ExportFormat } from '../month-end';
import {
  REPORT_GROUPINGS,
  shownFigures,
  xeroAccountCodeProblem,
  type ReportGrouping,
  type ReportRow,
} from '../../core/billing-report';
import { toCsv } from '../csv';
import { isPeriod } from '../../core/period';
import { invoicingSettings, saveInvoicingSettings } from '../../db/invoicing';
import { isPeriodClosed } from '../../db/billing-periods';
import { rerateCommand } from './rerate';

export function requirePeriod(value: string): string {
  if (!isPeriod(value)) throw new UserError(`--period must be YYYY-MM (e.g. 2026-10), got "${String(value)}"`);
  return value;
}

export function billingCommands(program: Command, ctx: () => CliContext): void {
  const billing = program
    .command('billing')
    .description('month end: what each customer is billed, and exports to invoicing');
  rerateCommand(billing, ctx);

  billing
    .command('report')
    .description(
      "the month's charges per customer, service or product: lines, units, carrier cost, charge, margin (credits negative)",
    )
    .requiredOption('--provider <provider>', 'provider id or name')
    .requiredOption('--period <YYYY-MM>', 'billing month')
    .option('--by <grouping>', `one of ${REPORT_GROUPINGS.join(', ')}`, 'customer')
    .option('--json', 'print JSON (exact 4-decimal amounts, and the invoiced 2-decimal figures)')
    .option('--csv', 'print CSV (exact 4-decimal amounts, and the invoiced 2-decimal figures)')
    .action(async (o) => {
      const period = requirePeriod(o.period);
      if (!(REPORT_GROUPINGS as readonly string[]).includes(o.by))
        throw new UserError(`--by must be one of ${REPORT_GROUPINGS.join(', ')}`);
      if (o.json && o.csv) throw new UserError('choose one of --json and --csv');
      const db = await ctx().db();
      const provider = await requireProvider(db, o.provider, { allowRemoved: true });
      const report = await buildChargesReport(db, provider, period, o.by as ReportGrouping);
      if (o.json) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        return;
      }
      const columns = [
        ...(o.by === 'product'
          ? ['product', 'productId']
          : o.by === 'service'
            ? ['customer', 'service', 'tenantDomain']
            : ['customer']),
        'lines',
        'units',
        'cost',
        'charge',
        'margin',
        'marginPercent',
        'creditLines',
        'credits',
        'adjustmentLines',
      ];
      if (o.csv) {
        const rows = report.rows.map((r) => ({ ...r, period, currency: report.currency }));
        const csvColumns = [...columns];
        csvColumns.splice(csvColumns.indexOf('margin') + 1, 0, 'invoiced');
        process.stdout.write(toCsv(rows, ['period', 'currency', ...csvColumns]));
        return;
      }
      const closed = await isPeriodClosed(db, provider.id, period);
      process.stdout.write(
        `${provider.name} (${provider.id}), ${period}${closed ? ' (closed)' : ''}, amounts in ${report.currency}, by ${o.by}\n\n`,
      );
      // The charge shown is what is invoiced (invoice lines rounded once each, as the exports carry
      // them); the margin shown is that charge minus the cost shown.
      const human = (
        r: Omit<ReportRow, 'customer' | 'service' | 'tenantDomain' | 'product' | 'productId'> & Partial<ReportRow>,
      ) => {
        const shown = shownFigures(r);
        return {
          ...r,
          cost: shown.cost,
          charge: shown.charge,
          margin: shown.margin,
          marginPercent: r.marginPercent === null ? '' : `${r.marginPercent}%`,
          // Credits (negative lines) shown as such, beside the net figures.
          credits: r.creditLines ? shown.credits : '',
        };
      };
      const total = {
        customer: 'TOTAL',
        service: null,
        tenantDomain: null,
        product: 'TOTAL',
        productId: null,
        ...report.totals,
      };
      printRows([...report.rows, total].map(human), false, columns);
    });

  billing
    .command('export')
    .description(
      "the month's charges for invoicing: csv (one row per service × product) or xero (Xero's sales-invoice import)",
    )
    .requiredOption('--provider <provider>', 'provider id or name')
    .requiredOption('--period <YYYY-MM>', 'billing month')
    .requiredOption('--format <format>', 'csv or xero')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (o) => {
      const period = requirePeriod(o.period);
      if (!['csv', 'xero'].includes(o.format)) throw new UserError('--format must be csv or xero');
      const db = await ctx().db();
      const provider = await requireProvider(db, o.provider, { allowRemoved: true });
      if (o.format === 'xero') {
        const xero = await xeroExport(db, provider, period);
        writeOut(xero.csv, o.out);
        // Xero emails an invoice only to a contact with an address: name who has none.
        if (xero.withoutEmail.length > 0)
          process.stderr.write(
            `note: ${xero.withoutEmail.length} customer(s) have no email address, so Xero cannot email their invoices: ` +
              `${xero.withoutEmail.join(', ')}; set one with "tenant set-contact <tenant> --email …"\n`,
          );
      } else writeOut(await buildExport(db, provider, period, o.format as ExportFormat), o.out);
      if (o.out && !(await isPeriodClosed(db, provider.id, period))) {
        process.stderr.write(
          `note: ${period} is still open, its charges may change; close it with "period close" once invoiced\n`,
        );
      }
    });

  billing
    .command('configure')
    .description(
      "how the provider's charges go into Xero: account code, tax type (amounts are ex-GST), invoice number prefix, days until due",
    )
    .requiredOption('--provider <provider>', 'provider id or name')
    .requiredOption('--by <name>', 'the admin making the change')
    .option('--account-code <code>', 'Xero account code of the sales lines, e.g. 200')
    .option('--tax-type <type>', 'Xero tax type, e.g. OUTPUT (GST on Income, AU) or OUTPUT2 (NZ)')
    .option('--invoice-prefix <prefix>', 'invoice number prefix (letters, digits, -; up to 12)')
    .option('--due-days <n>', 'days from the invoice date (the month’s last day) to the due date')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const db = await ctx().db();
      const provider = await requireProvider(db, o.provider);
      const current = await invoicingSettings(db, provider.id, provider.currency);
      const next = {
        accountCode: o.accountCode ?? current.accountCode,
        taxType: o.taxType ?? current.taxType,
        invoicePrefix: o.invoicePrefix ?? current.invoicePrefix,
        dueDays: o.dueDays === undefined ? current.dueDays : Number(o.dueDays),
      };
      if (!/^[A-Za-z0-9-]{1,12}$/.test(next.invoicePrefix))
        throw new UserError('--invoice-prefix must be 1-12 letters, digits or -');
      if (!Number.isInteger(next.dueDays) || next.dueDays < 0 || next.dueDays > 365)
        throw new UserError('--due-days must be a whole number from 0 to 365');
      const accountCodeProblem = xeroAccountCodeProblem(next.accountCode);
      if (accountCodeProblem) throw new UserError(`--account-code ${accountCodeProblem}`);
      if (!next.taxType.trim()) throw new UserError('--tax-type must not be empty');
      await saveInvoicingSettings(db, provider.id, next, o.by);
      printObject({ provider: provider.id, ...next }, !!o.json);
    });

  billing
    .command('settings')
    .description("the provider's invoicing settings (defaults until configured)")
    .requiredOption('--provider <provider>', 'provider id or name')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const db = await ctx().db();
      const provider = await requireProvider(db, o.provider, { allowRemoved: true });
      printObject(
        { provider: provider.id, ...(await invoicingSettings(db, provider.id, provider.currency)) },
        !!o.json,
      );
    });
}
