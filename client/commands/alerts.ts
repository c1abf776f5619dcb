import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../context';
import { requireProvider } from '../lookup';
import { printRows } from '../output';
import { UserError } from '../errors';
import {
  ALERT_RULES,
  ALL_PROVIDERS,
  RULE_DEFINITIONS,
  effectiveSetting,
  isAlertRule,
  validateThreshold,
} from '../../core/alerts';
import { listAlerts, listRuleSettings, upsertRuleSetting } from '../../db/alerts';
import { listProviders } from '../../db/providers';
import { runAlertingNow } from '../../workflows/alerting.api';

export function alertCommands(program: Command, ctx: () => CliContext): void {
  const alerts = program
    .command('alerts')
    .description('alert rules per provider (thresholds, on/off), alerts raised and their deliveries');

  alerts
    .command('list')
    .description('every rule for every provider, with the setting in force and whether it is firing')
    .option('--provider <provider>', 'only this provider (id or name)')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const db = await ctx().db();
      const providers = o.provider ? [await requireProvider(db, o.provider)] : await listProviders(db);
      const stored = await listRuleSettings(db);
      const firing = await listAlerts(db, { providerId: null, includeResolved: false, limit: 10_000 });
      const rows = providers.flatMap((p) =>
        ALERT_RULES.map((rule) => {
          const s = effectiveSetting(rule, p.id, stored);
          const unit = RULE_DEFINITIONS[rule].thresholdUnit;
          return {
            provider: p.id,
            name: p.name,
            rule,
            enabled: s.enabled,
            threshold: s.threshold,
            unit,
            source: s.source,
            firing: firing.filter((a) => a.provider_id === p.id && a.rule === rule).length,
          };
        }),
      );
      printRows(rows, !!o.json, ['provider', 'name', 'rule', 'enabled', 'threshold', 'unit', 'source', 'firing']);
    });

  alerts
    .command('set <rule>')
    .description(`change a rule for one provider or for all (${ALERT_RULES.join(', ')})`)
    .option('--provider <provider>', 'the provider (id or name)')
    .option('--all-providers', 'the default for every provider without its own setting')
    .option('--threshold <n>', 'hours, percent, days or cents, as the rule measures (see alerts list)')
    .option('--enable', 'turn the rule on')
    .option('--disable', 'turn the rule off')
    .option('--inherit', 'drop this setting: use the all-providers setting or the default again')
    .requiredOption('--by <admin>', 'who changes it')
    .action(async (rule: string, o) => {
      if (!isAlertRule(rule)) throw new UserError(`unknown rule "${rule}": one of ${ALERT_RULES.join(', ')}`);
      if (!!o.provider === !!o.allProviders)
        throw new UserError('give either --provider <provider> or --all-providers');
      if (o.enable && o.disable) throw new UserError('--enable and --disable contradict each other');
      if (!o.inherit && o.threshold === undefined && !o.enable && !o.disable)
        throw new UserError('nothing to change: give --threshold, --enable, --disable or --inherit');
      if (String(o.by).trim() === '') throw new UserError('--by must name the admin');
      let threshold: number | undefined;
      if (o.threshold !== undefined) {
        if (!/^\d+(\.\d+)?$/.test(String(o.threshold)))
          throw new UserError(`--threshold must be a number ≥ 0, got "${o.threshold}"`);
        threshold = Number(o.threshold);
        const problem = validateThreshold(rule, threshold);
        if (problem) throw new UserError(problem);
      }
      const db = await ctx().db();
      const providerId = o.provider ? (await requireProvider(db, o.provider)).id : ALL_PROVIDERS;
      await upsertRuleSetting(db, {
        providerId,
        rule,
        by: String(o.by).trim(),
        enabled: o.inherit ? null : o.enable ? true : o.disable ? false : undefined,
        threshold: o.inherit ? null : threshold,
      });
      const stored = await listRuleSettings(db);
      const now = effectiveSetting(rule, providerId, stored);
      const unit = RULE_DEFINITIONS[rule].thresholdUnit;
      process.stdout.write(
        `${rule} for ${providerId === ALL_PROVIDERS ? 'all providers' : providerId}: ${now.enabled ? 'enabled' : 'disabled'}${now.threshold !== null ? `, threshold ${now.threshold} ${unit}` : ''} (from the next evaluation)\n`,
      );
    });

  alerts
    .command('recent')
    .description('alerts raised, newest first, with their deliveries')
    .option('--provider <provider>', 'only this provider (id or name)')
    .option('--firing', 'only those still firing')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const db = await ctx().db();
      const providerId = o.provider ? (await requireProvider(db, o.provider)).id : null;
      const rows = await listAlerts(db, { providerId, includeResolved: !o.firing, limit: Number(o.limit) || 50 });
      printRows(rows as unknown as Array<Record<string, unknown>>, !!o.json, [
        'id',
        'provider_id',
        'rule',
        'status',
        'summary',
        'fired_at',
        'resolved_at',
        'deliveries',
      ]);
    });

  alerts
    .command('evaluate')
    .description('evaluate the rules and send what is due now (the schedule does this every few minutes)')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const c = ctx();
      const result = await runAlertingNow({ temporal: await c.temporal(), taskQueue: c.cfg.TASK_QUEUE });
      process.stdout.write(
        o.json
          ? JSON.stringify(result, null, 2) + '\n'
          : `${result.fired} fired, ${result.resolved} resolved, ${result.open} open; ${result.delivered} message(s) sent, ${result.deliveryFailures} failed (retried later)\n`,
      );
    });
}
