import type { Command } from 'commander';
import type { CliContext } from '../context';
import { providerFilter } from '../lookup';
import { getCycleRun, listCycleRuns } from '../../db/cycle-runs';
import { printObject, printRows } from '../output';
import { UserError } from '../errors';

export function cycleCommands(program: Command, ctx: () => CliContext): void {
  const cycle = program.command('cycle').description('usage cycle runs and their summaries');
  cycle.command('list').option('--provider <provider>', 'provider id or name').option('--limit <n>', 'how many', '20').option('--json', 'print JSON').action(async (o) => {
    const db = await ctx().db();
    const providerId = await providerFilter(db, o.provider);
    const rows = await listCycleRuns(db, providerId, Number(o.limit) || 20);
    printRows(rows, !!o.json, ['id', 'status', 'window_start', 'window_end', 'fetched', 'billed', 'quarantined', 'charge', 'error']);
  });
  cycle.command('show <cycleId>').option('--json', 'print JSON').action(async (id: string, o) => {
    const run = await getCycleRun(await ctx().db(), id);
    if (!run) throw new UserError(`no cycle "${id}"`);
    printObject(run, !!o.json);
  });
}
