import { randomUUID } from 'node:crypto';
import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../context';
import type { Pool } from '../../db/pool';
import { getProvider } from '../../db/providers';
import { providerFilter, providerLabels } from '../lookup';
import { amountsCurrency, displayMoney, displayTime } from '../display';
import {
  groupExists,
  groupSummary,
  listGroupLines,
  listQuarantineGroups,
  mismatchCurrencies,
  quarantineTotals,
  type QuarantineTotals,
} from '../../db/quarantined-lines';
import { listQuarantineActions } from '../../db/quarantine-actions';
import { getService, listServices } from '../../db/services';
import {
  ActionStillRunning,
  groupKeyFromWorkflowId,
  groupWorkflowId,
  resolveGroup,
} from '../../workflows/quarantine-group.api';
import { isQuarantineSort, parseGroupKey, QUARANTINE_SORTS, suggestService } from '../../core/quarantine-group';
import { CARRIER_LABEL } from '../../workflows/search-attributes';
import { QUARANTINE_REASONS } from '../../core/rating';
import type { ResolveRequest } from '../../workflows/quarantine-group.api';
import { printObject, printRows } from '../output';
import { UserError } from '../errors';
import { cliActor } from '../actor';
import { cliUpdateFailure } from '../workflow-failure';

/**
 * Accepts a group key (p-…|REASON|tenant) or its workflow id (quarantine:p-…:REASON:tenant); the
 * provider part may also be the provider's name ("Harbour IT Pty Ltd|NON_EXISTENT_SERVICE|<tenant>").
 */
async function groupKeyFromRef(ref: string, db: Pool): Promise<string> {
  let key = ref.startsWith('quarantine:') ? groupKeyFromWorkflowId(ref) : ref;
  const providerPart = key.split('|')[0] ?? '';
  if (providerPart && !/^p-[0-9a-f]{8}$/.test(providerPart)) {
    const p = await getProvider(db, providerPart);
    if (p) key = [p.id, ...key.split('|').slice(1)].join('|');
  }
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

/** The line under the list: what the filter holds, each currency's charge apart. */
function totalsLine(t: QuarantineTotals): string {
  const charges = Object.entries(t.carrierCharge).map(([currency, amount]) => displayMoney(amount, currency));
  return `totals: ${t.groups} group(s), ${t.lines} line(s)${charges.length ? `, carrier charge ${charges.join(' + ')}` : ''}`;
}

export function quarantineCommands(program: Command, ctx: () => CliContext): void {
  const q = program
    .command('quarantine')
    .description('the misc quarantine: usage lines that could not be billed, grouped by provider, reason and tenant');

  q.command('list')
    .description(
      'quarantine groups: lines, age, period, carrier charge and a suggested service for unknown tenants, with the totals',
    )
    .option('--carrier <label>', `carrier label (only "${CARRIER_LABEL}" here)`)
    .option('--reason <reason>', `one of ${QUARANTINE_REASONS.join(', ')}`)
    .option('--provider <provider>', 'provider id or name')
    .option('--sort <key>', `${QUARANTINE_SORTS.join(', ')}: largest (oldest) first`)
    .option('--json', 'print JSON')
    .action(async (o) => {
      if (o.sort !== undefined && !isQuarantineSort(o.sort))
        throw new UserError(`--sort must be one of ${QUARANTINE_SORTS.join(', ')}, not "${o.sort}"`);
      if (o.carrier !== undefined && o.carrier !== CARRIER_LABEL) {
        throw new UserError(`unknown carrier label "${o.carrier}"; known: "${CARRIER_LABEL}"`);
      }
      if (o.reason && !(QUARANTINE_REASONS as readonly string[]).includes(o.reason))
        throw new UserError(`--reason must be one of ${QUARANTINE_REASONS.join(', ')}`);
      const db = await ctx().db();
      const providerId = await providerFilter(db, o.provider);
      const filter = { reason: o.reason ?? null, providerId };
      const groups = await listQuarantineGroups(db, filter, undefined, o.sort ?? null);
      const totals = await quarantineTotals(db, filter);
      const foreign = await mismatchCurrencies(db, { providerId });
      const services = await listServices(db);
      const rows = groups.map((g) => {
        const suggest = suggestService(
          g,
          services.filter((x) => x.provider_id === g.provider_id),
        );
        return {
          group: g.group_key,
          carrier: CARRIER_LABEL,
          provider: g.provider_id,
          reason: g.reason,
          tenant: g.tenant_ref,
          customer: g.customer,
          lines: g.lines,
          ageDays: g.age_days,
          periodFrom: g.period_from,
          periodTo: g.period_to,
          carrierCharge: g.carrier_charge ?? '0',
          suggestedService: suggest?.id ?? null,
          similarity: suggest ? Number(suggest.score.toFixed(2)) : null,
        };
      });
      const label = await providerLabels(db);
      // A CURRENCY_MISMATCH group's amounts are in its records' currency, not the provider's.
      const currencyOf = (r: (typeof rows)[number]) =>
        amountsCurrency(label(r.provider).currency, foreign.get(r.group));
      if (o.json) {
        printObject(
          {
            groups: rows.map((r) => ({ ...r, providerName: label(r.provider).name, currency: currencyOf(r) })),
            totals,
          },
          true,
        );
        return;
      }
      // Exact amounts stay in --json; people read 2 decimals with the currency (AUD and NZD providers sit side by side).
      printRows(
        rows.map((r) => ({
          ...r,
          provider: label(r.provider).name,
          domain: groups.find((g) => g.group_key === r.group)?.domain ?? '',
          carrierCharge: displayMoney(r.carrierCharge, currencyOf(r)),
        })),
        false,
        [
          'group',
          'provider',
          'reason',
          'customer',
          'domain',
          'lines',
          'ageDays',
          'periodFrom',
          'periodTo',
          'carrierCharge',
          'suggestedService',
          'similarity',
        ],
      );
      process.stdout.write(`${totalsLine(totals)}\n`);
    });

  q.command('show <group>')
    .description('one group: its lines and its audit trail (every action, applied or refused, and who)')
    .option('--json', 'print JSON')
    .action(async (ref: string, o) => {
      const db = await ctx().db();
      const key = await groupKeyFromRef(ref, db);
      const summary = await groupSummary(db, key);
      const lines = await listGroupLines(db, key);
      const actions = await listQuarantineActions(db, key);
      // Well-formed but never quarantined (no line, no action ever): a typo, not an empty group.
      if (lines.length === 0 && actions.length === 0)
        throw new UserError(`no such quarantine group "${ref}": use the "group" column of "quarantine list"`);
      if (o.json) {
        printObject({ workflowId: groupWorkflowId(key), summary, lines, actions }, true);
        return;
      }
      const p = (await providerLabels(db))(summary.providerId);
      const currency = amountsCurrency(p.currency, [
        ...((await mismatchCurrencies(db, { groupKey: key })).get(key) ?? []),
        ...lines.map((l) => l.currency),
      ]);
      printObject(
        {
          workflowId: groupWorkflowId(key),
          provider: `${p.name} (${summary.providerId})`,
          reason: summary.reason,
          tenant: `${summary.tenantRef}${lines[0]?.domain ? ` (${lines[0].domain})` : ''}`,
          customer: lines[0]?.customer ?? '',
          quarantinedLines: summary.lines,
          period: summary.periodFrom ? `${summary.periodFrom} to ${summary.periodTo}` : '',
          carrierCharge: displayMoney(summary.carrierCharge, currency),
        },
        false,
      );
      process.stdout.write('lines:\n');
      printRows(
        lines.map((l) => ({
          id: l.id,
          status: l.status,
          start: l.start,
          product: l.product ?? '',
          carrierCharge: displayMoney(l.sub_total, l.currency ?? p.currency),
          detail: l.reason_detail ?? '',
        })),
        false,
      );
      process.stdout.write(`actions (times in ${p.timeZone}):\n`);
      printRows(
        actions.map((a) => ({
          at: displayTime(a.created_at, p.timeZone),
          action: a.action,
          by: a.actor,
          osUser: a.os_user ?? '',
          login: a.principal ?? '',
          outcome: a.outcome,
          why: a.rejection ?? a.note ?? '',
          billed: a.billed,
          requarantined: a.requarantined,
          writtenOff: a.written_off,
          amount: displayMoney(a.amount, currency),
        })),
        false,
      );
    });

  async function resolve(ref: string, req: ResolveRequest): Promise<void> {
    const c = ctx();
    const db = await c.db();
    const key = await groupKeyFromRef(ref, db);
    // A key nobody ever quarantined anything under is a typo, not an action to audit; every
    // refusal about a real group (unknown service, another provider's, no reason, nothing left)
    // goes through the group's workflow so it is in the audit trail like any signal's.
    if (!(await groupExists(db, key)))
      throw new UserError(`no quarantine group ${key}: use the "group" column of "quarantine list"`);
    if (req.action === 'allocate' && !/^S-\d+$/.test(req.serviceId)) {
      // A tenant domain or GUID names its service too; an unknown one is refused (and audited) by the group.
      const service = await getService(db, req.serviceId).catch(() => null);
      if (service) req = { ...req, serviceId: service.id };
    }
    // Read before the action takes the lines out of quarantine: a CURRENCY_MISMATCH group's amounts are in its records' currency.
    const foreign = (await mismatchCurrencies(db, { groupKey: key })).get(key);
    // Update-with-start: the admin gets the answer at once, and a group whose workflow is gone is started.
    let outcome;
    try {
      outcome = await resolveGroup({ temporal: await c.temporal(), taskQueue: c.cfg.TASK_QUEUE }, key, {
        ...req,
        ...cliActor(req.by),
        requestId: randomUUID(),
      });
    } catch (err) {
      if (err instanceof ActionStillRunning) {
        process.stdout.write(`${req.action}: ${err.message}\n`);
        return;
      }
      throw cliUpdateFailure(err);
    }
    if (outcome.outcome === 'REJECTED') throw new UserError(`refused: ${outcome.rejection}`);
    const currency = amountsCurrency((await providerLabels(db))(parseGroupKey(key).providerId).currency, foreign);
    process.stdout.write(
      `${req.action} by ${outcome.by}: ${outcome.lines} line(s); billed ${outcome.billed}, back in quarantine ${outcome.requarantined}, written off ${outcome.writtenOff}; amount ${displayMoney(outcome.amount, currency)}\n`,
    );
  }

  q.command('allocate <group>')
    .description("bill the group's lines to a service (and remember the tenant → service mapping)")
    .requiredOption('--service <service>', 'service id (S-1001), or the tenant domain or GUID of the service')
    .requiredOption('--by <name>', 'the admin taking the action')
    .option('--note <text>', 'note for the audit trail')
    .action((ref: string, o) => resolve(ref, { action: 'allocate', serviceId: o.service, by: o.by, note: o.note }));

  q.command('cleanse <group>')
    .description(
      'process the lines again (after adding a service or a rate); lines that still fail return with their reason',
    )
    .requiredOption('--by <name>', 'the admin taking the action')
    .option('--note <text>', 'note for the audit trail')
    .action((ref: string, o) => resolve(ref, { action: 'cleanse', by: o.by, note: o.note }));

  q.command('accept-revision <group>')
    .description(
      'accept revised lines (DUPLICATE_USAGE): the version billed before is credited, the revision charged (in the next open month if its own is closed)',
    )
    .requiredOption('--by <name>', 'the admin taking the action')
    .option('--note <text>', 'note for the audit trail')
    .action((ref: string, o) => resolve(ref, { action: 'acceptRevision', by: o.by, note: o.note }));

  q.command('write-off <group>')
    .description('never bill these lines')
    .requiredOption('--reason <text>', 'why they are written off')
    .requiredOption('--by <name>', 'the admin taking the action')
    .option('--note <text>', 'note for the audit trail')
    .action((ref: string, o) => resolve(ref, { action: 'writeOff', reason: o.reason, by: o.by, note: o.note }));
}
