import type { Command } from '@commander-js/extra-typings';
import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import type { CliContext } from '../context';
import { listProviders } from '../../db/providers';
import { requireProvider } from '../lookup';
import { startUsageCycleNow, usageScheduleHandle } from '../../workflows/usage-cycle.api';
import { explicitWindow, type UsageWindow } from '../../core/usage-window';
import { printObject, printRows } from '../output';
import { UserError } from '../errors';
import { displayCycleTimes, displayTime } from '../display';

export function scheduleCommands(program: Command, ctx: () => CliContext): void {
  const schedule = program
    .command('schedule')
    .description("the providers' usage schedules (also visible under Schedules in the Web UI)");

  async function handleFor(ref: string) {
    const c = ctx();
    const p = await requireProvider(await c.db(), ref, { allowRemoved: true });
    const handle = usageScheduleHandle(await c.temporal(), p.id);
    return { p, handle };
  }
  const missing = (err: unknown, ref: string) => {
    if (err instanceof ScheduleNotFoundError) throw new UserError(`provider "${ref}" has no usage schedule (removed?)`);
    throw err;
  };

  schedule
    .command('list')
    .description("every provider's usage schedule: when it runs, paused or not, the next run")
    .option('--json', 'print JSON')
    .action(async (o) => {
      const c = ctx();
      const client = await c.temporal();
      const rows = [];
      for (const p of await listProviders(await c.db())) {
        try {
          const d = await usageScheduleHandle(client, p.id).describe();
          const tz = d.spec.timezone ?? p.time_zone;
          rows.push({
            provider: p.id,
            name: p.name,
            schedule: d.scheduleId,
            runsAt: displayCycleTimes(d.spec.calendars ?? [], tz),
            paused: d.state.paused,
            note: d.state.note ?? '',
            next: o.json ? (d.info.nextActionTimes[0] ?? null) : displayTime(d.info.nextActionTimes[0], tz),
            recentRuns: d.info.recentActions.length,
          });
        } catch (err) {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
          rows.push({
            provider: p.id,
            name: p.name,
            schedule: '(none)',
            runsAt: '',
            paused: null,
            note: '',
            next: null,
            recentRuns: 0,
          });
        }
      }
      printRows(rows, !!o.json);
    });

  schedule
    .command('describe <provider>')
    .description('when the usage cycles run, as set, and the next and recent runs')
    .option('--json', 'print JSON')
    .action(async (ref: string, o) => {
      const { p, handle } = await handleFor(ref);
      const d = await handle.describe().catch((e) => missing(e, ref));
      if (o.json) {
        printObject(
          {
            scheduleId: d.scheduleId,
            paused: d.state.paused,
            note: d.state.note,
            timezone: d.spec.timezone,
            calendars: d.spec.calendars,
            cycleTimes: displayCycleTimes(d.spec.calendars ?? [], undefined).split(', '),
            overlap: d.policies.overlap,
            catchupWindowMs: d.policies.catchupWindow,
            nextActionTimes: d.info.nextActionTimes,
            recentActions: d.info.recentActions.map((a) => ({
              scheduledAt: a.scheduledAt,
              workflowId: a.action.workflow.workflowId,
            })),
          },
          true,
        );
        return;
      }
      const tz = d.spec.timezone ?? p.time_zone;
      printObject(
        {
          schedule: d.scheduleId,
          provider: `${p.name} (${p.id})`,
          runsAt: displayCycleTimes(d.spec.calendars ?? [], tz),
          paused: d.state.paused ? `yes${d.state.note ? `: ${d.state.note}` : ''}` : 'no',
          overlap:
            d.policies.overlap === 'BUFFER_ONE'
              ? 'a cycle due while one runs waits for it (BUFFER_ONE)'
              : d.policies.overlap,
          catchUpWindow: `${Math.round(Number(d.policies.catchupWindow) / 3600_000)} hours`,
          next: d.info.nextActionTimes.map((t) => displayTime(t, tz)).join(', '),
          recent:
            d.info.recentActions
              .map((a) => `${displayTime(a.scheduledAt, tz)} ${a.action.workflow.workflowId}`)
              .join('; ') || '(none yet)',
        },
        false,
      );
    });

  schedule
    .command('pause <provider>')
    .description("stop the provider's scheduled cycles until resumed")
    .option('--note <text>', 'why, for the next admin')
    .action(async (ref: string, o) => {
      const { handle } = await handleFor(ref);
      await handle.pause(o.note ?? 'paused from the CLI').catch((e) => missing(e, ref));
      process.stdout.write(`${handle.scheduleId} paused\n`);
    });

  schedule
    .command('resume <provider>')
    .description("run the provider's scheduled cycles again")
    .option('--note <text>', 'why')
    .action(async (ref: string, o) => {
      const { handle } = await handleFor(ref);
      await handle.unpause(o.note ?? 'resumed from the CLI').catch((e) => missing(e, ref));
      process.stdout.write(`${handle.scheduleId} resumed\n`);
    });

  schedule
    .command('trigger <provider>')
    .description('start a usage cycle now; with --from/--to, one cycle for that window (e.g. to re-run a month)')
    .option('--from <date>', 'first day of the window, YYYY-MM-DD (with --to)')
    .option('--to <date>', 'last day of the window, YYYY-MM-DD (with --from)')
    .action(async (ref: string, o) => {
      const window = windowOption(o);
      if (window) {
        const c = ctx();
        const p = await requireProvider(await c.db(), ref);
        const handle = await startUsageCycleNow(
          { temporal: await c.temporal(), taskQueue: c.cfg.TASK_QUEUE },
          { providerId: p.id, window },
        );
        process.stdout.write(`usage cycle ${handle.workflowId} started for ${window.startDate} to ${window.endDate}\n`);
        return;
      }
      const { handle } = await handleFor(ref);
      await handle.trigger(ScheduleOverlapPolicy.BUFFER_ONE).catch((e) => missing(e, ref));
      process.stdout.write(`${handle.scheduleId} triggered\n`);
    });

  schedule
    .command('backfill <provider>')
    .description(
      'run the cycles that were due between two times (e.g. after an outage longer than the catch-up window)',
    )
    .requiredOption('--from <iso>', 'start, ISO 8601')
    .requiredOption('--to <iso>', 'end, ISO 8601')
    .action(async (ref: string, o) => {
      const from = new Date(o.from);
      const to = new Date(o.to);
      if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()))
        throw new UserError('--from and --to must be ISO 8601 date-times');
      if (to <= from) throw new UserError('--to must be after --from');
      const { handle } = await handleFor(ref);
      await handle
        .backfill([{ start: from, end: to, overlap: ScheduleOverlapPolicy.BUFFER_ALL }])
        .catch((e) => missing(e, ref));
      process.stdout.write(`${handle.scheduleId}: backfill ${from.toISOString()} → ${to.toISOString()} requested\n`);
    });
}

/** `--from`/`--to` as a usage window: both or neither, real dates, in order. */
export function windowOption(o: { from?: string; to?: string }): UsageWindow | undefined {
  if (o.from === undefined && o.to === undefined) return undefined;
  if (o.from === undefined || o.to === undefined)
    throw new UserError('give both --from and --to (YYYY-MM-DD), or neither for the usual window');
  try {
    return explicitWindow(o.from, o.to);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
}
