import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../context';
import { requireProvider } from '../lookup';
import { printObject, printRows } from '../output';
import { UserError } from '../errors';
import { displayTime } from '../display';
import { requirePeriod } from './billing';
import { PeriodStateError, closePeriod, listPeriods, reopenPeriod, type PeriodRow } from '../../db/billing-periods';

export function periodCommands(program: Command, ctx: () => CliContext): void {
  const period = program
    .command('period')
    .description('close a month once invoiced (its charges never change again), reopen it with a reason');

  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof PeriodStateError) throw new UserError(err.message);
      throw err;
    }
  };

  period
    .command('close')
    .requiredOption('--provider <provider>', 'provider id or name')
    .requiredOption('--period <YYYY-MM>', 'billing month')
    .requiredOption('--by <name>', 'the admin closing it')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const db = await ctx().db();
      const provider = await requireProvider(db, o.provider);
      const row = await guarded(() => closePeriod(db, provider.id, requirePeriod(o.period), o.by));
      printPeriodChange(row, provider, !!o.json);
    });

  period
    .command('reopen')
    .requiredOption('--provider <provider>', 'provider id or name')
    .requiredOption('--period <YYYY-MM>', 'billing month')
    .requiredOption('--by <name>', 'the admin reopening it')
    .requiredOption('--reason <text>', 'why it is reopened (kept in the audit trail)')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const db = await ctx().db();
      const provider = await requireProvider(db, o.provider);
      if (!String(o.reason).trim()) throw new UserError('--reason must not be empty');
      const row = await guarded(() => reopenPeriod(db, provider.id, requirePeriod(o.period), o.by, o.reason));
      printPeriodChange(row, provider, !!o.json);
    });

  period
    .command('list')
    .requiredOption('--provider <provider>', 'provider id or name')
    .option('--json', 'print JSON (with each month’s audit trail)')
    .action(async (o) => {
      const db = await ctx().db();
      const provider = await requireProvider(db, o.provider, { allowRemoved: true });
      const rows = await listPeriods(db, provider.id);
      if (o.json) {
        printObject(rows, true);
        return;
      }
      // One row per close or reopen: the status that event left the month in, in the provider's time.
      printRows(
        rows.flatMap((p) =>
          p.events.map((e, i) => ({
            period: p.period,
            action: e.action,
            statusAfter: `${e.action === 'close' ? 'CLOSED' : 'OPEN'}${i === p.events.length - 1 ? ' (now)' : ''}`,
            by: e.actor,
            reason: e.reason,
            at: displayTime(e.created_at, provider.time_zone),
          })),
        ),
        false,
      );
    });
}

/** A close or reopen as the admin reads it: the month, its status, who, when in the provider's time. */
function printPeriodChange(row: PeriodRow, provider: { name: string; time_zone: string }, json: boolean): void {
  if (json) return printObject(row, true);
  const why = row.reason ? ` (${row.reason})` : '';
  process.stdout.write(
    `${row.period} of ${provider.name}: ${row.status} by ${row.changed_by} at ${displayTime(row.changed_at, provider.time_zone)}${why}\n`,
  );
}
