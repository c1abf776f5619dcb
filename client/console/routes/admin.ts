import type { FastifyInstance } from 'fastify';
import {
  countAdmins,
  deleteUser,
  DuplicateUserError,
  getUser,
  listUsers,
  setUserRole,
} from '../../../db/console-users';
import {
  AUDIT_OUTCOMES,
  auditChoices,
  countAudit,
  listAudit,
  recordAudit,
  type AuditFilter,
  type AuditOutcome,
} from '../../../db/audit-events';
import { listProviders } from '../../../db/providers';
import { loadConfig } from '../../../config';
import { detailPairs, detailsOf } from '../../audit';
import { isRole } from '../access';
import { pageOf } from '../view';
import { addUser, UserInputError } from '../auth';
import { HttpError, str, type ConsoleContext } from '../context';

/** Users (admins only) and the audit log (billing admins). */
export async function adminRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const { pool } = ctx.deps;
  // Events with no provider are shown in the system's zone.
  const defaultTimeZone = loadConfig().DEFAULT_TIME_ZONE;

  app.get('/users', { config: { role: 'admin' } }, async (_request, reply) =>
    reply.page('users', { title: 'Users', users: await listUsers(pool) }),
  );

  app.post('/users/:action', { config: { role: 'admin' } }, async (request, reply) => {
    const action = (request.params as { action: string }).action;
    const body = request.body as Record<string, unknown>;
    const me = request.session!.user.username;
    const username = str(body.username).toLowerCase();
    const audit = (kind: string, detail: string) =>
      recordAudit(pool, { actor: me, source: 'console', kind, subject: username, detail, remoteAddr: request.ip });
    try {
      if (action === 'add') {
        const role = str(body.role);
        if (!isRole(role)) throw new UserInputError('choose a role: viewer, billing or admin');
        await addUser(pool, username, typeof body.password === 'string' ? body.password : '', role);
        await audit('user.add', `added with role ${role}`);
        await ctx.flash(request, { kind: 'ok', text: `User ${username} added (${role}).` });
      } else if (action === 'remove' || action === 'role') {
        const target = await getUser(pool, username);
        if (!target) throw new UserInputError(`no user ${username}`);
        if (target.username === me)
          throw new UserInputError('you cannot remove or demote yourself here (another admin can)');
        if (target.role === 'admin' && (await countAdmins(pool)) <= 1)
          throw new UserInputError('the last admin cannot be removed or demoted');
        if (action === 'remove') {
          await deleteUser(pool, username);
          await audit('user.remove', 'removed; their sessions ended');
          await ctx.flash(request, { kind: 'ok', text: `User ${username} removed.` });
        } else {
          const role = str(body.role);
          if (!isRole(role)) throw new UserInputError('choose a role: viewer, billing or admin');
          await setUserRole(pool, username, role);
          await audit('user.role', `role ${target.role} → ${role}`);
          await ctx.flash(request, { kind: 'ok', text: `${username} is now ${role}.` });
        }
      } else {
        throw new HttpError(404, `Unknown user action "${action}".`);
      }
    } catch (err) {
      if (!(err instanceof UserInputError || err instanceof DuplicateUserError)) throw err;
      await ctx.flash(request, { kind: 'error', text: `Refused: ${err.message}` });
    }
    return reply.redirect('/users', 303);
  });

  // The one audit log: billing admins read it (what was done and refused, by whom); viewers do not.
  app.get('/audit', { config: { role: 'billing' } }, async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const filter = { provider: str(q.provider), actor: str(q.actor), action: str(q.action), outcome: str(q.outcome) };
    const providers = await listProviders(pool, true);
    const problem =
      filter.provider && !providers.some((p) => p.id === filter.provider)
        ? `No provider "${filter.provider}": choose one from the list.`
        : filter.outcome && !(AUDIT_OUTCOMES as readonly string[]).includes(filter.outcome)
          ? `Outcome must be ${AUDIT_OUTCOMES.join(' or ')}.`
          : null;
    const query: AuditFilter = {
      providerId: filter.provider || undefined,
      actor: filter.actor || undefined,
      action: filter.action || undefined,
      outcome: (filter.outcome || undefined) as AuditOutcome | undefined,
    };
    // A filter that was not understood shows nothing, never everything.
    const page = pageOf(problem ? 0 : await countAudit(pool, query), q.page);
    const events = problem ? [] : await listAudit(pool, query, { offset: page.offset, limit: page.size });
    const zoneOf = new Map(providers.map((p) => [p.id, p.time_zone]));
    const nameOf = new Map(providers.map((p) => [p.id, p.name]));
    return reply.page('audit', {
      title: 'Audit',
      events: events.map((e) => ({
        ...e,
        zone: (e.provider_id && zoneOf.get(e.provider_id)) || defaultTimeZone,
        providerName: e.provider_id ? (nameOf.get(e.provider_id) ?? e.provider_id) : null,
        pairs: detailPairs(detailsOf(e)),
      })),
      page,
      filter,
      problem,
      providers,
      choices: await auditChoices(pool),
      outcomes: AUDIT_OUTCOMES,
      query: q,
    });
  });
}
