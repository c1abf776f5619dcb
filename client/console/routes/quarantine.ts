import { hash, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { listProviders } from '../../../db/providers';
import { recordAudit } from '../../../db/audit-events';
import { actionWord } from '../audit';
import { countGroupLines, groupNames, listGroupLines, providerServices } from '../../../db/console-views';
import { listQuarantineActions } from '../../../db/quarantine-actions';
import {
  groupSummary,
  listQuarantineGroups,
  mismatchCurrencies,
  quarantineTotals,
} from '../../../db/quarantined-lines';
import { serviceOwner } from '../../../db/services';
import { previewAllocation } from '../../../activities/mediate';
import { amountsCurrency, displayMoney } from '../../display';
import { groupWorkflowId } from '../../../workflows/quarantine-group.api';
import {
  allocationTargetProblem,
  bulkAllocationProblem,
  isQuarantineSort,
  parseGroupKey,
  QUARANTINE_SORTS,
} from '../../../core/quarantine-group';
import { requestProblem } from '../../../core/quarantine-requests';
import { CARRIER_LABEL } from '../../../workflows/search-attributes';
import { QUARANTINE_REASONS } from '../../../core/rating';
import { rankServices } from '../../../core/service-suggestion';
import { pageOf } from '../view';
import { Refused, resolveGroup, StillRunning } from '../temporal';
import { HttpError, queryString, str, type ConsoleContext } from '../context';
import type { QuarantineAction, ResolveRequest } from '../../../workflows/quarantine-group.api';

const BULK_LABELS: Record<QuarantineAction, string> = {
  writeOff: 'write-off',
  cleanse: 'cleanse',
  allocate: 'allocation',
  acceptRevision: 'revision accepted',
};

/** A page lists 25 groups; a bulk form sends the checked ones of one page. */
const MAX_BULK_GROUPS = 100;

/**
 * One group's request id within a bulk action: its own for each group, and the same again when
 * the same bulk form is sent twice, so a re-sent form acts once per group.
 */
function bulkRequestId(bulkId: string, groupKey: string): string {
  const h = hash('sha256', `${bulkId}|${groupKey}`, 'hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Only keys the system made: provider|REASON|tenant with a known reason. */
function groupKeyParam(v: unknown): string {
  const key = str(v);
  try {
    const { reason } = parseGroupKey(key);
    if ((QUARANTINE_REASONS as readonly string[]).includes(reason)) return key;
  } catch {
    /* refused below */
  }
  throw new HttpError(404, `"${key}" is not a quarantine group.`);
}

export async function quarantineRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const { pool } = ctx.deps;

  app.get('/quarantine', { config: { role: 'viewer' } }, async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const providers = await listProviders(pool, true);
    const filter = {
      carrier: str(q.carrier),
      reason: str(q.reason),
      provider: str(q.provider),
      sort: str(q.sort),
    };
    let problem: string | null = null;
    if (filter.carrier && filter.carrier !== CARRIER_LABEL)
      problem = `Unknown carrier "${filter.carrier}": the only carrier is "${CARRIER_LABEL}".`;
    if (filter.reason && !(QUARANTINE_REASONS as readonly string[]).includes(filter.reason))
      problem = `Unknown reason "${filter.reason}".`;
    if (filter.provider && !providers.some((p) => p.id === filter.provider))
      problem = `Unknown provider "${filter.provider}".`;
    if (filter.sort && !isQuarantineSort(filter.sort))
      problem = `Unknown sort "${filter.sort}": sort by ${QUARANTINE_SORTS.join(', ')}.`;
    const where = { reason: filter.reason || null, providerId: filter.provider || null };
    const totals = problem ? { groups: 0, lines: 0, carrierCharge: {} } : await quarantineTotals(pool, where);
    const page = pageOf(totals.groups, q.page);
    const sort = isQuarantineSort(filter.sort) ? filter.sort : null;
    const groups = problem
      ? []
      : await listQuarantineGroups(pool, where, { offset: page.offset, limit: page.size }, sort);
    // A CURRENCY_MISMATCH group's amounts are in its records' currency, not the provider's.
    const foreign = groups.some((g) => g.reason === 'CURRENCY_MISMATCH')
      ? await mismatchCurrencies(pool, { providerId: where.providerId })
      : new Map<string, string[]>();
    const rows = groups.map((g) => {
      const provider = providers.find((p) => p.id === g.provider_id)!;
      return { ...g, provider, currency: amountsCurrency(provider?.currency ?? '', foreign.get(g.group_key)) };
    });
    // Bulk allocation names one service: offered when the listed groups are one provider's.
    const shownProviders = [...new Set(rows.map((r) => r.provider_id))];
    const allocateProvider = shownProviders.length === 1 ? shownProviders[0]! : null;
    return reply.page('quarantine', {
      title: 'Quarantine',
      filter,
      problem,
      rows,
      page,
      totals,
      providers,
      reasons: QUARANTINE_REASONS,
      carrier: CARRIER_LABEL,
      bulkId: randomUUID(),
      allocateServices: allocateProvider ? await providerServices(pool, allocateProvider) : null,
    });
  });

  /**
   * One action for the checked groups, one reason for all: each group's through its own `resolve`
   * Update (its own request id, audited as the signed-in user), so one refusal stops nothing else.
   */
  app.post('/quarantine/bulk', { config: { role: 'billing' } }, async (request, reply) => {
    const body = request.body as Record<string, unknown>;
    const keys = [...new Set((Array.isArray(body.key) ? body.key : [body.key]).map(str).filter(Boolean))].map(
      groupKeyParam,
    );
    const action = str(body.action) as QuarantineAction;
    const reason = str(body.reason);
    const serviceId = str(body.serviceId);
    const by = request.session!.user.username;
    const bulkId = /^[0-9a-f-]{36}$/.test(str(body.bulkId)) ? str(body.bulkId) : randomUUID();
    const back = `/quarantine${queryString({}, { carrier: str(body.carrier), reason: str(body.filterReason), provider: str(body.provider), sort: str(body.sort), page: str(body.page) })}`;
    const requestOf = (key: string): ResolveRequest => {
      const common = { by, principal: by, requestId: bulkRequestId(bulkId, key) };
      if (action === 'writeOff') return { action, reason, ...common };
      if (action === 'allocate') return { action, serviceId, note: reason, ...common };
      return { action: 'cleanse', note: reason, ...common };
    };
    // Checked before any group is touched: what is wrong with the form is wrong for every group.
    const problem = await (async () => {
      if (keys.length === 0) return 'Check at least one group.';
      if (keys.length > MAX_BULK_GROUPS) return `At most ${MAX_BULK_GROUPS} groups at once (${keys.length} checked).`;
      if (!['writeOff', 'cleanse', 'allocate'].includes(action)) return `Unknown bulk action "${action}".`;
      if (!reason) return 'A bulk action needs a reason (it is recorded with each group).';
      if (action === 'allocate') {
        const mixed = bulkAllocationProblem(keys);
        if (mixed) return mixed;
        if (!serviceId) return 'Choose the service to allocate the groups to.';
        const owner = await serviceOwner(pool, serviceId);
        const target = allocationTargetProblem(serviceId, owner, parseGroupKey(keys[0]!).providerId);
        if (target) return target;
      }
      return requestProblem(requestOf(keys[0]!));
    })();
    if (problem) {
      await ctx.flash(request, {
        kind: 'error',
        text: `Nothing done: ${problem.charAt(0).toUpperCase()}${problem.slice(1)}`,
      });
      return reply.redirect(back, 303);
    }
    const names = new Map((await listGroupIdentities(keys)).map((g) => [g.key, g.name]));
    const providers = await listProviders(pool, true);
    const results = [];
    // A few groups at a time: each waits on its own workflow, and the worker takes them together.
    for (let i = 0; i < keys.length; i += 5) {
      const chunk = keys.slice(i, i + 5);
      const done = await Promise.all(
        chunk.map((key) => {
          const provider = providers.find((p) => p.id === parseGroupKey(key).providerId);
          return bulkOne(key, requestOf(key), provider?.currency ?? '');
        }),
      );
      results.push(...done.map((r, j) => ({ key: chunk[j]!, name: names.get(chunk[j]!) ?? chunk[j]!, ...r })));
    }
    // The audit log has one row per group (its own outcome), not one for the whole form.
    for (const r of results)
      await recordAudit(pool, {
        actor: by,
        principal: by,
        source: 'console',
        action: `quarantine.${actionWord(action)}`,
        target: r.key,
        providerId: parseGroupKey(r.key).providerId,
        outcome: r.outcome === 'APPLIED' || r.outcome === 'RUNNING' ? 'APPLIED' : 'REFUSED',
        reason: r.outcome === 'REFUSED' || r.outcome === 'FAILED' ? r.text : null,
        details: { bulk: bulkId, ...(action === 'allocate' ? { serviceId } : {}), reason, result: r.text },
        remoteAddr: request.ip,
      });
    return reply.page('quarantine-bulk', {
      title: `Bulk ${BULK_LABELS[action]}`,
      action: BULK_LABELS[action],
      serviceId: action === 'allocate' ? serviceId : null,
      reason,
      results,
      applied: results.filter((r) => r.outcome === 'APPLIED').length,
      back,
    });
  });

  /** One group of a bulk action: applied with what it did, still running, or refused with why. */
  async function bulkOne(key: string, req: ResolveRequest, providerCurrency: string) {
    // Read before the action takes the lines: a CURRENCY_MISMATCH group's amounts are in its records' currency.
    const currency = amountsCurrency(providerCurrency, (await mismatchCurrencies(pool, { groupKey: key })).get(key));
    try {
      const o = await resolveGroup(ctx.deps, key, req);
      return {
        outcome: 'APPLIED' as const,
        text: `${o.lines} line(s); billed ${o.billed}, back in quarantine ${o.requarantined}, written off ${o.writtenOff}; amount ${displayMoney(o.amount, currency)}`,
      };
    } catch (err) {
      if (err instanceof StillRunning) return { outcome: 'RUNNING' as const, text: err.message };
      if (err instanceof Refused) return { outcome: 'REFUSED' as const, text: err.message };
      ctx.deps.log.warn({ err, groupKey: key }, 'bulk quarantine action failed');
      return { outcome: 'FAILED' as const, text: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Each group's name on the result page: its customer (or tenant), as the queue shows it. */
  async function listGroupIdentities(keys: string[]) {
    return Promise.all(
      keys.map(async (key) => {
        const n = await groupNames(pool, key);
        return { key, name: n.customer || n.domain || parseGroupKey(key).tenantRef };
      }),
    );
  }

  app.get('/quarantine/group', { config: { role: 'viewer' } }, async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const key = groupKeyParam(q.key);
    const { providerId, reason, tenantRef } = parseGroupKey(key);
    const provider = (await listProviders(pool, true)).find((p) => p.id === providerId);
    if (!provider) throw new HttpError(404, `No provider ${providerId}.`);
    const summary = await groupSummary(pool, key);
    const total = await countGroupLines(pool, key);
    if (total === 0) throw new HttpError(404, `Quarantine group ${key} has no lines.`);
    const page = pageOf(total, q.page);
    const lines = await listGroupLines(pool, key, { offset: page.offset, limit: page.size });
    const names = await groupNames(pool, key);
    const services = rankServices(names, await providerServices(pool, providerId));
    const actions = (await listQuarantineActions(pool, key)).reverse();
    const allocatable = reason !== 'INVALID_RECORD' && reason !== 'DUPLICATE_USAGE';
    const previewed = allocatable && q.preview ? str(q.preview) : null;
    return reply.page('group', {
      title: `Quarantine group ${names.customer ?? tenantRef}`,
      key,
      provider,
      reason,
      tenantRef,
      summary,
      names,
      lines,
      page,
      services,
      actions,
      currency: amountsCurrency(provider.currency, (await mismatchCurrencies(pool, { groupKey: key })).get(key)),
      workflowId: groupWorkflowId(key),
      // One per form: a request id names one action, so a refused write-off's id re-posted with an
      // allocate would be answered with that refusal (each is sent again as is, once, on a retry).
      requestIds: {
        allocate: randomUUID(),
        cleanse: randomUUID(),
        writeOff: randomUUID(),
        acceptRevision: randomUUID(),
      },
      allocatable,
      // The service chosen in the picker: the one previewed, else the suggestion, else none.
      chosenService: previewed ?? services.suggested?.id ?? null,
      preview: previewed ? await allocationPreview(providerId, key, previewed) : null,
    });
  });

  /** What allocating to `serviceId` would bill now, or why it cannot be allocated there. */
  async function allocationPreview(providerId: string, key: string, serviceId: string) {
    const problem = allocationTargetProblem(serviceId, await serviceOwner(pool, serviceId), providerId);
    if (problem) return { serviceId, problem };
    return { serviceId, problem: null, ...(await previewAllocation(pool, providerId, key, serviceId)) };
  }

  // The allocate form's Preview button: shows the group page with what the chosen service would bill.
  app.post('/quarantine/group/preview', { config: { role: 'billing' } }, async (request, reply) => {
    const body = request.body as Record<string, unknown>;
    const key = groupKeyParam(body.key);
    const serviceId = str(body.serviceId);
    if (!serviceId) {
      await ctx.flash(request, { kind: 'error', text: 'Choose a service to preview the allocation.' });
      return reply.redirect(`/quarantine/group${queryString({}, { key })}#allocate`, 303);
    }
    return reply.redirect(`/quarantine/group${queryString({}, { key, preview: serviceId })}#allocate`, 303);
  });

  app.post('/quarantine/group/action', { config: { role: 'billing' } }, async (request, reply) => {
    const body = request.body as Record<string, unknown>;
    const key = groupKeyParam(body.key);
    const action = str(body.action) as QuarantineAction;
    // The signed-in user is both the name on the action and its authenticated principal: the form cannot choose either.
    const by = request.session!.user.username;
    const principal = by;
    const note = str(body.note) || undefined;
    const requestId = /^[0-9a-f-]{36}$/.test(str(body.requestId)) ? str(body.requestId) : randomUUID();
    const back = `/quarantine/group?key=${encodeURIComponent(key)}`;
    let req: ResolveRequest;
    if (action === 'allocate' && !str(body.serviceId)) {
      await ctx.flash(request, { kind: 'error', text: 'Choose a service to allocate to.' });
      return reply.redirect(back, 303);
    }
    if (action === 'allocate') req = { action, serviceId: str(body.serviceId), by, principal, note };
    else if (action === 'cleanse') req = { action, by, principal, note };
    else if (action === 'writeOff') req = { action, reason: str(body.reason), by, principal, note };
    else if (action === 'acceptRevision') req = { action, by, principal, note };
    else throw new HttpError(400, `Unknown action "${str(body.action)}".`);
    try {
      const o = await resolveGroup(ctx.deps, key, { ...req, requestId });
      const what = {
        writeOff: 'Written off',
        allocate: `Allocated to ${str(body.serviceId)}`,
        cleanse: 'Cleansed',
        acceptRevision: 'Revision accepted',
      }[action];
      await ctx.flash(request, {
        kind: 'ok',
        text: `${what} by ${o.by}: ${o.lines} line(s); billed ${o.billed}, back in quarantine ${o.requarantined}, written off ${o.writtenOff}.`,
      });
    } catch (err) {
      if (err instanceof StillRunning) {
        // Accepted: the outcome shows on the page (and in the audit trail) once it is done.
        await ctx.flash(request, { kind: 'ok', text: err.message.charAt(0).toUpperCase() + err.message.slice(1) });
        return reply.redirect(back, 303);
      }
      if (!(err instanceof Refused)) throw err;
      await ctx.flash(request, { kind: 'error', text: `Refused: ${err.message}` });
      return reply.redirect(back, 303);
    }
    return reply.redirect(back, 303);
  });
}
