import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../context';
import { AUDIT_OUTCOMES, listAudit, type AuditOutcome } from '../../db/audit-events';
import { providerFilter, providerLabels } from '../lookup';
import { printRows } from '../output';
import { displayTime } from '../display';
import { UserError } from '../errors';
import { auditEventJson, detailPairs, detailsOf } from '../audit';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 5000;

/** `csp audit`: the one audit log, newest first. */
export function auditCommands(program: Command, ctx: () => CliContext): void {
  program
    .command('audit')
    .description(
      'every admin action, applied or refused, from the CLI, the console, Temporal and the system; newest first',
    )
    .option('--provider <provider>', 'only actions on this provider (id or name)')
    .option('--since <iso>', 'only actions at or after this moment (ISO 8601: 2026-12-01 or 2026-12-01T09:00:00Z)')
    .option('--actor <name>', 'only actions by this name, console user or OS user')
    .option('--action <action>', 'only this action (rates.set) or family (rates)')
    .option('--outcome <outcome>', AUDIT_OUTCOMES.join(' | '))
    .option('--limit <n>', `at most this many (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT})`)
    .option('--json', 'print JSON: {"events": [...]}')
    .action(async (o) => {
      const since = o.since === undefined ? undefined : new Date(o.since);
      if (since && (!/^\d{4}-\d{2}-\d{2}/.test(o.since!) || Number.isNaN(since.getTime())))
        throw new UserError(
          `--since must be an ISO 8601 date or time (2026-12-01, 2026-12-01T09:00:00Z), got "${o.since}"`,
        );
      const outcome = o.outcome?.toUpperCase();
      if (outcome !== undefined && !(AUDIT_OUTCOMES as readonly string[]).includes(outcome))
        throw new UserError(`--outcome must be one of ${AUDIT_OUTCOMES.join(', ')}, got "${o.outcome}"`);
      const limit = o.limit === undefined ? DEFAULT_LIMIT : Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
        throw new UserError(`--limit must be a whole number from 1 to ${MAX_LIMIT}, got "${o.limit}"`);
      const db = await ctx().db();
      const providerId = (await providerFilter(db, o.provider)) ?? undefined;
      const events = await listAudit(
        db,
        { providerId, since, actor: o.actor, action: o.action, outcome: outcome as AuditOutcome | undefined },
        { offset: 0, limit },
      );
      if (o.json) {
        process.stdout.write(JSON.stringify({ events: events.map(auditEventJson) }, null, 2) + '\n');
        return;
      }
      const label = await providerLabels(db);
      const zone = (id: string | null) => (id ? label(id).timeZone : ctx().cfg.DEFAULT_TIME_ZONE);
      printRows(
        events.map((e) => ({
          at: displayTime(e.at, zone(e.provider_id)),
          source: e.source,
          actor: e.actor,
          who: e.principal ?? e.os_user ?? '',
          action: e.action,
          target: e.target ?? '',
          outcome: e.outcome,
          reason: e.reason ?? '',
          details: detailPairs(detailsOf(e))
            .map((d) => `${d.key}: ${d.value}`)
            .join('; '),
        })),
        false,
      );
    });
}
