import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../context';
import { requireProvider } from '../lookup';
import { printObject, printRows } from '../output';
import { UserError } from '../errors';
import { displayMoney } from '../display';
import { cliActor } from '../actor';
import { isPeriod } from '../../core/period';
import { isGuid } from '../../core/guid';
import { isPeriodClosed } from '../../db/billing-periods';
import { getService } from '../../db/services';
import { previewRerate, closedPeriodRefusal } from '../../activities/rerate';
import { RerateRefused, runRerate } from '../../workflows/rerate.api';
import type { RerateCustomerFigures, RerateFigures } from '../../core/corrections';

/** `billing rerate`: today's rate card applied to a month already billed, previewed first. */
export function rerateCommand(billing: Command, ctx: () => CliContext): void {
  billing
    .command('rerate')
    .description(
      "apply today's rate card to a month already billed: each live charge that differs is credited and charged again (a preview unless --apply)",
    )
    .requiredOption('--provider <provider>', 'provider id or name')
    .requiredOption('--period <YYYY-MM>', 'billing month (open)')
    .option('--product <guid>', 'only this product')
    .option('--service <id>', 'only this service (id or tenant)')
    .option('--apply', 'write the credits and charges (a workflow, visible in the Web UI)')
    .option('--by <name>', 'who re-rates (required with --apply)')
    .option('--json', 'print JSON (exact 4-decimal amounts)')
    .action(async (o) => {
      if (!isPeriod(o.period))
        throw new UserError(`--period must be YYYY-MM (e.g. 2026-10), got "${String(o.period)}"`);
      if (o.product !== undefined && !isGuid(o.product)) throw new UserError('--product must be a product GUID');
      if (o.apply && !o.by) throw new UserError('--by is required with --apply: who re-rates');
      const db = await ctx().db();
      const provider = await requireProvider(db, o.provider);
      let serviceId: string | null = null;
      if (o.service !== undefined) {
        const s = await getService(db, o.service);
        if (!s || s.provider_id !== provider.id) throw new UserError(`no service "${o.service}" of ${provider.name}`);
        serviceId = s.id;
      }
      if (await isPeriodClosed(db, provider.id, o.period)) throw new UserError(closedPeriodRefusal(o.period));
      const scope = { providerId: provider.id, period: o.period, productId: o.product ?? null, serviceId };
      const currency = provider.currency;
      if (!o.apply) {
        const preview = await previewRerate(db, scope);
        const out = { providerId: provider.id, period: o.period, applied: false, ...preview };
        if (o.json) return printObject(out, true);
        printFigures(out.byCustomer, currency);
        process.stdout.write(
          `preview: ${summaryText(out, currency)} of ${preview.examined} live charge(s) in ${o.period}` +
            (preview.unrated > 0 ? `; ${preview.unrated} have no rule today and stay as billed` : '') +
            (out.lines > 0 ? '\nrun again with --apply --by NAME to re-rate them' : '') +
            '\n',
        );
        return;
      }
      const by = o.by!;
      const starter = { temporal: await ctx().temporal(), taskQueue: ctx().cfg.TASK_QUEUE };
      let run;
      try {
        run = await runRerate(starter, { ...scope, ...cliActor(by) });
      } catch (err) {
        if (err instanceof RerateRefused) throw new UserError(err.message);
        throw err;
      }
      if (run.status === 'running') {
        if (o.json)
          return printObject(
            { providerId: provider.id, period: o.period, accepted: true, running: true, workflowId: run.workflowId },
            true,
          );
        process.stdout.write(
          `accepted: ${run.workflowId} is still running (its progress shows in the Temporal Web UI)\n`,
        );
        return;
      }
      if (o.json) return printObject(run.result, true);
      printFigures(run.result.byCustomer, currency);
      process.stdout.write(`re-rated ${o.period}: ${summaryText(run.result, currency)} (${run.workflowId})\n`);
    });
}

function summaryText(f: RerateFigures, currency: string): string {
  if (f.lines === 0) return 'no charge changes under today’s rate card';
  return `${f.lines} charge(s) credited and charged again: ${displayMoney(f.oldCharge, currency)} → ${displayMoney(f.newCharge, currency)} (delta ${displayMoney(f.delta, currency)})`;
}

function printFigures(rows: RerateCustomerFigures[], currency: string): void {
  if (rows.length === 0) return;
  printRows(
    rows.map((r) => ({
      customer: r.customer,
      lines: r.lines,
      old: displayMoney(r.oldCharge, currency),
      new: displayMoney(r.newCharge, currency),
      delta: displayMoney(r.delta, currency),
    })),
    false,
  );
}
