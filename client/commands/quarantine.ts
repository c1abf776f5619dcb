import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { CliContext } from '../context';
import { providerFilter } from '../lookup';
import { groupSummary } from '../../activities/quarantine';
import { groupKeyFromWorkflowId, groupWorkflowId, resolveGroup } from '../../workflows/quarantine-group.api';
import { parseGroupKey } from '../../core/quarantine-group';
import { CARRIER_LABEL } from '../../workflows/search-attributes';
import { QUARANTINE_REASONS } from '../../core/rating';
import { similarity } from '../../core/similarity';
import type { ResolveRequest } from '../../workflows/types';
import { printObject, printRows } from '../output';
import { UserError } from '../errors';

/** Accepts a group key (p-…|REASON|tenant) or its workflow id (quarantine:p-…:REASON:tenant). */
function groupKeyOf(ref: string): string {
  const key = ref.startsWith('quarantine:') ? groupKeyFromWorkflowId(ref) : ref;
  let reason = '';
  try {
    reason = parseGroupKey(key).reason;
  } catch {
    /* reported below */
  }
  if (!(QUARANTINE_REASONS as readonly string[]).includes(reason)) {
    throw new UserError(`"${ref}" is not a quarantine group: use the "group" column of "quarantine list"`);
  }
  return key;
}

export function quarantineCommands(program: Command, ctx: () => CliContext): void {
  const q = program.command('quarantine').description('the misc quarantine: usage lines that could not be billed, grouped by provider, reason and tenant');

  q.command('list')
    .option('--carrier <label>', `carrier label (only "${CARRIER_LABEL}" here)`)
    .option('--reason <reason>', `one of ${QUARANTINE_REASONS.join(', ')}`)
    .option('--provider <provider>', 'provider id or name')
    .option('--json', 'print JSON')
    .action(async (o) => {
      if (o.carrier && o.carrier !== CARRIER_LABEL) {
        printRows([], !!o.json);
        return;
      }
      if (o.reason && !QUARANTINE_REASONS.includes(o.reason)) throw new UserError(`--reason must be one of ${QUARANTINE_REASONS.join(', ')}`);
      const db = await ctx().db();
      const providerId = await providerFilter(db, o.provider);
      const groups = await db.query<{ group_key: string; provider_id: string; reason: string; tenant_ref: string; lines: number; carrier_charge: string | null; period_from: string; period_to: string; customer: string | null; domain: string | null }>(
        `SELECT group_key, provider_id, reason, min(tenant_ref) AS tenant_ref, count(*)::int AS lines, round(sum(sub_total), 4)::text AS carrier_charge,
                min(left(charge_start, 10)) AS period_from, max(left(charge_start, 10)) AS period_to,
                min(raw::jsonb ->> 'CustomerName') AS customer, min(raw::jsonb ->> 'PrimaryDomainName') AS domain
           FROM usage_line
          WHERE status = 'QUARANTINED' AND ($1::text IS NULL OR reason = $1) AND ($2::text IS NULL OR provider_id = $2)
          GROUP BY group_key, provider_id, reason ORDER BY provider_id, reason, group_key`,
        [o.reason ?? null, providerId],
      );
      const services = await db.query<{ id: string; provider_id: string; tenant_domain: string | null; customer_name: string | null }>('SELECT id, provider_id, tenant_domain, customer_name FROM service');
      const rows = groups.rows.map((g) => {
        let best: { id: string; score: number } | null = null;
        if (g.reason === 'NON_EXISTENT_SERVICE') {
          for (const s of services.rows.filter((x) => x.provider_id === g.provider_id)) {
            const score = Math.max(similarity(g.domain ?? '', s.tenant_domain ?? ''), similarity(g.customer ?? '', s.customer_name ?? ''));
            if (!best || score > best.score) best = { id: s.id, score };
          }
        }
        const suggest = best && best.score >= 0.5 ? best : null;
        return {
          group: g.group_key, carrier: CARRIER_LABEL, provider: g.provider_id, reason: g.reason, tenant: g.tenant_ref, customer: g.customer, lines: g.lines,
          periodFrom: g.period_from, periodTo: g.period_to, carrierCharge: g.carrier_charge ?? '0',
          suggestedService: suggest?.id ?? null, similarity: suggest ? Number(suggest.score.toFixed(2)) : null,
        };
      });
      printRows(rows, !!o.json, ['group', 'reason', 'customer', 'lines', 'periodFrom', 'periodTo', 'carrierCharge', 'suggestedService', 'similarity']);
    });

  q.command('show <group>').option('--json', 'print JSON').action(async (ref: string, o) => {
    const key = groupKeyOf(ref);
    const db = await ctx().db();
    const summary = await groupSummary({ pool: db }, key);
    const lines = await db.query('SELECT id, record_key, status, reason_detail, left(charge_start, 10) AS start, sub_total::text FROM usage_line WHERE group_key = $1 ORDER BY id LIMIT 200', [key]);
    const actions = await db.query('SELECT created_at, action, actor, outcome, rejection, note, billed, requarantined, written_off, amount::text FROM quarantine_action WHERE group_key = $1 ORDER BY id', [key]);
    printObject({ workflowId: groupWorkflowId(key), summary, lines: lines.rows, actions: actions.rows }, !!o.json);
  });

  async function resolve(ref: string, req: ResolveRequest): Promise<void> {
    const key = groupKeyOf(ref);
    const c = ctx();
    const db = await c.db();
    const summary = await groupSummary({ pool: db }, key);
    if (summary.lines === 0) throw new UserError(`group ${key} has no quarantined lines`);
    if (req.action === 'allocate') {
      const s = await db.query<{ provider_id: string }>('SELECT provider_id FROM service WHERE id = $1', [req.serviceId]);
      if (s.rowCount === 0) throw new UserError(`service ${req.serviceId} does not exist`);
      if (s.rows[0]!.provider_id !== summary.providerId) throw new UserError(`service ${req.serviceId} belongs to another provider`);
    }
    // Update-with-start: the admin gets the answer at once, and a group whose workflow is gone is started.
    let outcome;
    try {
      outcome = await resolveGroup({ temporal: await c.temporal(), taskQueue: c.cfg.TASK_QUEUE }, key, { ...req, requestId: randomUUID() });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new UserError(`refused: ${(err.cause as Error)?.message ?? err.message}`);
      throw err;
    }
    if (outcome.outcome === 'REJECTED') throw new UserError(`refused: ${outcome.rejection}`);
    process.stdout.write(`${req.action} by ${outcome.by}: ${outcome.lines} line(s); billed ${outcome.billed}, back in quarantine ${outcome.requarantined}, written off ${outcome.writtenOff}; amount ${outcome.amount}\n`);
  }

  q.command('allocate <group>')
    .description("bill the group's lines to a service (and remember the tenant → service mapping)")
    .requiredOption('--service <id>', 'service id, e.g. S-1001')
    .requiredOption('--by <name>', 'the admin taking the action')
    .option('--note <text>', 'note for the audit trail')
    .action((ref: string, o) => resolve(ref, { action: 'allocate', serviceId: o.service, by: o.by, note: o.note }));

  q.command('cleanse <group>')
    .description('process the lines again (after adding a service or a rate); lines that still fail return with their reason')
    .requiredOption('--by <name>', 'the admin taking the action')
    .option('--note <text>', 'note for the audit trail')
    .action((ref: string, o) => resolve(ref, { action: 'cleanse', by: o.by, note: o.note }));

  q.command('write-off <group>')
    .description('never bill these lines')
    .requiredOption('--reason <text>', 'why they are written off')
    .requiredOption('--by <name>', 'the admin taking the action')
    .option('--note <text>', 'note for the audit trail')
    .action((ref: string, o) => resolve(ref, { action: 'writeOff', reason: o.reason, by: o.by, note: o.note }));
}
