import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createSession, deleteSession } from '../../../db/console-sessions';
import { recordAudit } from '../../../db/audit-events';
import { checkPassword, FailureThrottle, newToken, sameToken, tokenHash } from '../auth';
import { HttpError, str, type ConsoleContext } from '../context';

export const SESSION_COOKIE = 'csp_session';
/** Before sign-in there is no session to tie a CSRF token to: a random cookie, sent back in the form. */
export const LOGIN_CSRF_COOKIE = 'csp_login';

/** Only local paths: a `next` pointing elsewhere would make the login page an open redirect. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/';
}

export async function loginRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const { pool } = ctx.deps;
  const cookie = (maxAgeSeconds?: number) => ({
    path: '/',
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: ctx.opts.secureCookies,
    maxAge: maxAgeSeconds,
  });

  const form = async (request: FastifyRequest, reply: FastifyReply, error: string | null, status = 200) => {
    // Reused while valid: a second tab (or the browser's favicon request) must not invalidate the first form.
    const existing = request.cookies[LOGIN_CSRF_COOKIE];
    const token = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : newToken();
    reply.setCookie(LOGIN_CSRF_COOKIE, token, cookie(1800));
    const q = request.query as Record<string, unknown>;
    const body = (request.body ?? {}) as Record<string, unknown>;
    return reply.page(
      'login',
      { title: 'Sign in', loginCsrf: token, next: safeNext(body.next ?? q.next), username: str(body.username), error },
      status,
    );
  };

  // Browsers ask for it on every page; answering here keeps it out of the sign-in redirect.
  app.get('/favicon.ico', { config: { role: 'public' } }, async (_request, reply) => reply.code(204).send());

  app.get('/login', { config: { role: 'public' } }, async (request, reply) => {
    if (request.session) return reply.redirect('/', 303);
    return form(request, reply, null);
  });

  // Failed sign-ins are counted per user name (one person's wrong passwords lock only that user)
  // and, far more loosely, per client address (one address guessing many users).
  const perUser = new FailureThrottle(ctx.opts.loginAttemptsPerMinute, ctx.opts.loginWindowMs);
  const perAddress = new FailureThrottle(ctx.opts.loginAttemptsPerAddressPerMinute, ctx.opts.loginWindowMs);

  app.post('/login', { config: { role: 'public' } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (!sameToken(body._csrf, request.cookies[LOGIN_CSRF_COOKIE] ?? '') || !request.cookies[LOGIN_CSRF_COOKIE]) {
      return form(request, reply, 'The sign-in form expired or did not come from this console. Please try again.', 403);
    }
    const username = str(body.username).toLowerCase().slice(0, 64);
    const password = typeof body.password === 'string' ? body.password : '';
    const userWait = perUser.blockedForMs(username);
    const addressWait = perAddress.blockedForMs(request.ip);
    if (userWait > 0 || addressWait > 0) {
      const why = userWait > 0 ? 'for this user' : 'from this address';
      await recordAudit(pool, {
        actor: username || '(none)',
        source: 'console',
        kind: 'login.rate-limited',
        outcome: 'REFUSED',
        reason: `too many failed sign-in attempts ${why}`,
        detail: `too many failed sign-in attempts ${why}`,
        remoteAddr: request.ip,
      });
      ctx.deps.log.warn(
        { user: username, remoteAddr: request.ip },
        `console: sign-in refused, too many failures ${why}`,
      );
      const seconds = Math.max(1, Math.ceil(Math.max(userWait, addressWait) / 1000));
      throw new HttpError(429, `Too many failed sign-in attempts ${why}. Try again in ${seconds} seconds.`);
    }
    const user = username && password ? await checkPassword(pool, username, password) : null;
    if (!user) {
      perUser.fail(username);
      perAddress.fail(request.ip);
      await recordAudit(pool, {
        actor: username || '(none)',
        source: 'console',
        kind: 'login.failed',
        outcome: 'REFUSED',
        reason: 'wrong username or password',
        detail: 'wrong username or password',
        remoteAddr: request.ip,
      });
      ctx.deps.log.warn({ user: username, remoteAddr: request.ip }, 'console: failed sign-in');
      return form(request, reply, 'Wrong username or password.', 401);
    }
    perUser.succeed(username);
    // A new token at every sign-in: a token planted before sign-in is worthless after it.
    const token = newToken();
    await createSession(pool, {
      tokenHash: tokenHash(token),
      userId: user.id,
      idleSeconds: ctx.opts.sessionIdleMinutes * 60,
      remoteAddr: request.ip,
    });
    await recordAudit(pool, {
      actor: user.username,
      source: 'console',
      kind: 'login',
      principal: user.username,
      detail: `signed in as ${user.role}`,
      remoteAddr: request.ip,
    });
    reply.clearCookie(LOGIN_CSRF_COOKIE, { path: '/' });
    reply.setCookie(SESSION_COOKIE, token, cookie());
    return reply.redirect(safeNext(body.next), 303);
  });

  app.post('/logout', { config: { role: 'viewer' } }, async (request, reply) => {
    const s = request.session!;
    await deleteSession(pool, s.tokenHash);
    await recordAudit(pool, { actor: s.user.username, source: 'console', kind: 'logout', remoteAddr: request.ip });
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/login', 303);
  });
}
