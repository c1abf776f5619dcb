import type { Command } from 'commander';
import type { CliContext } from '../context';
import { providerFilter } from '../lookup';
import { printObject, printRows } from '../output';
import { UserError } from '../errors';

export function cycleCommands(program: Command, ctx: () => CliContext): void {
  const cycle = program.command('cycle').description('usage cycle runs and their summaries');
  cycle.command('list').option('--provider <provider>', 'provider id or name').option('--limit <n>', 'how many', '20').option('--json', 'print JSON').action(async (o) => {
    const db = await ctx().db();
    const providerId = await providerFilter(db, o.provider);
    const rows = await db.query(
      `SELECT id, provider_id, status, to_char(window_start, 'YYYY-MM-DD') AS window_start, to_char(window_end, 'YYYY-MM-DD') AS window_end, fetched,
              (summary ->> 'billed')::int AS billed, (summary ->> 'quarantined')::int AS quarantined, summary ->> 'charge' AS charge, error, started_at, finished_at
         FROM cycle_run WHERE $1::text IS NULL OR provider_id = $1 ORDER BY started_at DESC LIMIT $2`,
      [providerId, Number(o.limit) || 20],
    );
    printRows(rows.rows, !!o.json, ['id', 'status', 'window_start', 'window_end', 'fetched', 'billed', 'quarantined', 'charge', 'error']);
  });
  cycle.command('show <cycleId>').option('--json', 'print JSON').action(async (id: string, o) => {
    const r = await (await ctx().db()).query('SELECT * FROM cycle_run WHERE id = $1', [id]);
    if (r.rowCount === 0) throw new UserError(`no cycle "${id}"`);
    printObject(r.rows[0], !!o.json);
  });
}
