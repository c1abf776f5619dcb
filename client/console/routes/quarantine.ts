import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { listProviders } from '../../../db/providers';
import { countGroupLines, groupNames, listGroupLines, providerServices } from '../../../db/console-views';
import { listQuarantineActions } from '../../../db/quarantine-actions';
import {
  countQuarantineGroups,
  groupSummary,
  listQuarantineGroups,
  mismatchCurrencies,
} from '../../../db/quarantined-lines';
import { amountsCurrency } from '../../display';
import { groupWorkflowId } from '../../../workflows/quarantine-group.api';
import { parseGroupKey } from '../../../core/quarantine-group';
import { CARRIER_LABEL } from '../../../workflows/search-attributes';
import { QUARANTINE_REASONS } from '../../../core/rating';
import { rankServices } from '../../../core/service-suggestion';
import { pageOf } from '../view';
import { Refused, resolveGroup, StillRunning } from '../temporal';
import { HttpError, str, type ConsoleContext } from '../context';
import type { QuarantineAction, ResolveRequest } from '../../../workflows/quarantine-group.api';

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
    const filter = { carrier: str(q.carrier), reason: str(q.reason), provider: str(q.provider) };
    let problem: string | null = null;
    if (filter.carrier && filter.carrier !== CARRIER_LABEL)
      problem = `Unknown carrier "${filter.carrier}": the only carrier is "${CARRIER_LABEL}".`;
    if (filter.reason && !(QUARANTINE_REASONS as readonly string[]).includes(filter.reason))
      problem = `Unknown reason "${filter.reason}".`;
    if (filter.provider && !providers.some((p) => p.id === filter.provider))
      problem = `Unknown provider "${filter.provider}".`;
    const where = { reason: filter.reason || null, providerId: filter.provider || null };
    const total = problem ? 0 : await countQuarantineGroups(pool, where);
    const page = pageOf(total, q.page);
    const groups = problem ? [] : await listQuarantineGroups(pool, where, { offset: page.offset, limit: page.size });
    // A CURRENCY_MISMATCH group's amounts are in its records' currency, not the provider's.
    const foreign = groups.some((g) => g.reason === 'CURRENCY_MISMATCH')
      ? await mismatchCurrencies(pool, { providerId: where.providerId })
      : new Map<string, string[]>();
    const rows = groups.map((g) => {
      const provider = providers.find((p) => p.id === g.provider_id)!;
      return { ...g, provider, currency: amountsCurrency(provider?.currency ?? '', foreign.get(g.group_key)) };
    });
    return reply.page('quarantine', {
      title: 'Quarantine',
      filter,
      problem,
      rows,
      page,
      providers,
      reasons: QUARANTINE_REASONS,
      carrier: CARRIER_LABEL,
    });
  });

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
      allocatable: reason !== 'INVALID_RECORD' && reason !== 'DUPLICATE_USAGE',
    });
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
