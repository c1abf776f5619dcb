import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../context';
import { providerFilter, providerLabels, requireProvider } from '../lookup';
import { displayMoney, displayTime } from '../display';
import { getCycleRun, listCycleRuns } from '../../db/cycle-runs';
import { printObject, printRows } from '../output';
import { UserError } from '../errors';
import { describeCycleProgress, startUsageCycleNow } from '../../workflows/usage-cycle.api';
import { windowOption } from './schedules';
import { waitForWorkflow } from '../workflow-failure';

export function cycleCommands(program: Command, ctx: () => CliContext): void {
  const cycle = program.command('cycle').description('usage cycle runs and their summaries');
  cycle
    .command('run <provider>')
    .description(
      "run one usage cycle now and wait for its summary; --from/--to for an explicit window (default: the provider's usual window)",
    )
    .option('--from <date>', 'first day of the window, YYYY-MM-DD (with --to)')
    .option('--to <date>', 'last day of the window, YYYY-MM-DD (with --from)')
    .option('--json', 'print JSON')
    .action(async (ref: string, o) => {
      const window = windowOption(o);
      const c = ctx();
      const p = await requireProvider(await c.db(), ref);
      const handle = await startUsageCycleNow(
        { temporal: await c.temporal(), taskQueue: c.cfg.TASK_QUEUE },
        { providerId: p.id, window },
      );
      if (!o.json)
        process.stderr.write(
          `usage cycle ${handle.workflowId} started${window ? ` for ${window.startDate} to ${window.endDate}` : ''}\n`,
        );
      printObject(await waitForWorkflow(handle), !!o.json);
    });
  cycle
    .command('list')
    .description("recent usage cycles, newest first (times in each provider's zone)")
    .option('--provider <provider>', 'provider id or name')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const db = await ctx().db();
      const providerId = await providerFilter(db, o.provider);
      const rows = await listCycleRuns(db, providerId, Number(o.limit) || 20);
      if (o.json) {
        printRows(rows as unknown as Array<Record<string, unknown>>, true);
        return;
      }
      const label = await providerLabels(db);
      printRows(
        rows.map((r) => {
          const p = label(r.provider_id);
          return {
            id: r.id,
            provider: p.name,
            status: r.status,
            started: displayTime(r.started_at, p.timeZone),
            window: `${r.window_start} to ${r.window_end}`,
            fetched: r.fetched,
            billed: r.billed ?? '',
            quarantined: r.quarantined ?? '',
            charge: r.charge === null ? '' : displayMoney(r.charge, p.currency),
            error: r.error ?? '',
          };
        }),
        false,
      );
    });
  cycle
    .command('show <cycleId>')
    .description('one cycle run as stored, with its summary')
    .option('--json', 'print JSON')
    .action(async (id: string, o) => {
      const run = await getCycleRun(await ctx().db(), id);
      if (!run) throw new UserError(`no cycle "${id}"`);
      if (run.status !== 'RUNNING') return printObject(run, !!o.json);
      // Running: its live progress, and what it waits on (a retried activity and its last failure).
      const live = await describeCycleProgress(await ctx().temporal(), id);
      const waiting = live.waitingOn.map(
        (w) =>
          `${w.activity} attempt ${w.attempt}${w.lastFailure ? `, last failure: ${w.lastFailure}` : ''}${w.nextAttemptAt ? `, next try ${w.nextAttemptAt}` : ''}`,
      );
      printObject(
        {
          ...run,
          phase: live.progress?.phase ?? null,
          progress: live.progress,
          waiting_on: o.json ? live.waitingOn : waiting.join('; ') || null,
        },
        !!o.json,
      );
    });
}
