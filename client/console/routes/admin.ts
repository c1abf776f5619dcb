import type { FastifyInstance } from 'fastify';
import {
  countAdmins,
  deleteUser,
  DuplicateUserError,
  getUser,
  listUsers,
  setUserRole,
} from '../../../db/console-users';
import { countAudit, listAudit, recordAudit } from '../../../db/audit-events';
import { isRole } from '../access';
import { pageOf } from '../view';
import { addUser, UserInputError } from '../auth';
import { HttpError, str, type ConsoleContext } from '../context';

/** Users and the sign-in audit: admins only. */
export async function adminRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const { pool } = ctx.deps;

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

  app.get('/audit', { config: { role: 'admin' } }, async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const kind = str(q.kind);
    const filter = kind ? { kindPrefix: kind } : {};
    const page = pageOf(await countAudit(pool, filter), q.page);
    const events = await listAudit(pool, filter, { offset: page.offset, limit: page.size });
    return reply.page('audit', { title: 'Audit', events, page, kind, query: q });
  });
}
