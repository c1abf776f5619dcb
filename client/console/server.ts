import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import { Eta } from 'eta';
import { deleteExpiredSessions, setFlash, takeFlash, touchSession } from '../../db/console-sessions';
import {
  HttpError,
  queryString,
  type ConsoleContext,
  type ConsoleDeps,
  type ConsoleOptions,
  type ConsoleSession,
} from './context';
import { roleAllows, type Role } from './access';
import { adminTextProblem } from '../../core/admin-text';
import { displayMoney, displayTime } from '../display';
import { csrfTokenFor, sameToken, tokenHash } from './auth';
import { loginRoutes, SESSION_COOKIE } from './routes/login';
import { dashboardRoutes } from './routes/dashboard';
import { quarantineRoutes } from './routes/quarantine';
import { tenantRoutes } from './routes/tenants';
import { rateRoutes } from './routes/rates';
import { adminRoutes } from './routes/admin';
import { monthEndRoutes } from './routes/month-end';
import { rerateRoutes } from './routes/rerate';
import { registerConsoleAudit } from './audit';
import { MAX_ADMIN_TEXT_CHARS } from '../../core/admin-text';

/**
 * The billing admins' web console: server-rendered pages (eta), a little JavaScript for live
 * progress and charts (served from this process, never a CDN), sign-in with roles, and every
 * change sent through the same Updates and checks as the CLI. The Temporal Web UI stays the place
 * to inspect workflows; every page that shows one links to it.
 */
declare module 'fastify' {
  interface FastifyRequest {
    session: ConsoleSession | null;
  }
  interface FastifyContextConfig {
    /** The least role a route needs; `public` routes need no session. */
    role?: Role | 'public';
  }
  interface FastifyReply {
    page(template: string, data?: Record<string, unknown>, status?: number): Promise<FastifyReply>;
  }
}

export const VIEWS = path.join(__dirname, 'views');
const PUBLIC = path.join(__dirname, 'public');
// chart.js exports no package.json; its main entry sits in dist/ beside the UMD build served here.
const CHART_JS_DIST = path.dirname(require.resolve('chart.js'));

export async function buildConsole(deps: ConsoleDeps, options: ConsoleOptions = {}): Promise<FastifyInstance> {
  const opts: Required<ConsoleOptions> = {
    secureCookies: options.secureCookies ?? false,
    loginAttemptsPerMinute: options.loginAttemptsPerMinute ?? 10,
    loginAttemptsPerAddressPerMinute: options.loginAttemptsPerAddressPerMinute ?? 100,
    trustedProxies: options.trustedProxies ?? [],
    loginWindowMs: options.loginWindowMs ?? 60_000,
    sessionIdleMinutes: options.sessionIdleMinutes ?? 60,
    sessionMaxHours: options.sessionMaxHours ?? 12,
  };
  // request.ip: the connection's address, or (only from a configured proxy) the client X-Forwarded-For names.
  const app = Fastify({
    logger: false,
    trustProxy: opts.trustedProxies.length > 0 ? opts.trustedProxies : false,
    bodyLimit: 64 * 1024,
  });
  const eta = new Eta({ views: VIEWS, cache: true, autoEscape: true, autoTrim: false });

  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  await app.register(fastifyStatic, { root: PUBLIC, prefix: '/assets/', index: false });
  await app.register(fastifyStatic, {
    root: CHART_JS_DIST,
    prefix: '/assets/chart.js/',
    decorateReply: false,
    index: false,
    allowedPath: (p) => p === '/chart.umd.min.js',
  });

  const ctx: ConsoleContext = {
    deps,
    opts,
    async flash(request, flash) {
      if (request.session) await setFlash(deps.pool, request.session.tokenHash, flash);
    },
    workflowLink(workflowId) {
      return deps.temporalUiUrl
        ? `${deps.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${encodeURIComponent(workflowId)}`
        : null;
    },
  };

  app.decorateRequest('session', null);
  app.decorateReply(
    'page',
    async function page(this: FastifyReply, template: string, data: Record<string, unknown> = {}, status = 200) {
      const request = this.request;
      const flash = request.session ? await takeFlash(deps.pool, request.session.tokenHash) : null;
      const html = eta.render(template, {
        ...data,
        user: request.session?.user ?? null,
        csrf: request.session?.csrf ?? null,
        flash,
        path: request.url,
        can: (role: Role) => !!request.session && roleAllows(request.session.user.role, role),
        money: displayMoney,
        time: displayTime,
        wf: (workflowId: string) => ctx.workflowLink(workflowId),
        qs: queryString,
        cut: cutText,
        // Notes and reasons: the length every caller accepts (core/admin-text.ts).
        maxText: MAX_ADMIN_TEXT_CHARS,
      });
      return this.code(status).type('text/html; charset=utf-8').send(html);
    },
  );

  // Who is asking: the session cookie's token, looked up by its hash; the idle expiry slides.
  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/assets/')) return;
    const token = request.cookies[SESSION_COOKIE];
    if (!token || token.length > 100) return;
    const hash = tokenHash(token);
    const user = await touchSession(deps.pool, hash, opts.sessionIdleMinutes * 60, opts.sessionMaxHours * 3600);
    if (user) request.session = { user, tokenHash: hash, csrf: csrfTokenFor(token) };
  });

  // What they may do: a session for everything but public routes, a valid CSRF token on every
  // change, and a role at least the route's. The server decides; pages only hide what it refuses.
  app.addHook('preHandler', async (request, reply) => {
    if (request.url.startsWith('/assets/')) return;
    const needed = request.routeOptions.config.role ?? 'admin';
    if (needed === 'public') return;
    if (!request.session) {
      if (request.method === 'GET') return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
      throw new HttpError(401, 'Sign in first: this request carries no valid session.');
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const body = request.body as Record<string, unknown> | undefined;
      const sent = body?._csrf ?? request.headers['x-csrf-token'];
      if (!sameToken(sent, request.session.csrf))
        throw new HttpError(
          403,
          'This form is out of date or did not come from this console (missing or wrong CSRF token). Reload the page and try again.',
        );
      // Notes and reasons are kept whole (audit trail, workflow history): bounded here for every form.
      for (const field of ['note', 'reason']) {
        const value = body?.[field];
        const problem = typeof value === 'string' ? adminTextProblem(field, value.trim()) : null;
        if (problem) throw new HttpError(400, `The ${problem}.`);
      }
    }
    if (!roleAllows(request.session.user.role, needed)) {
      throw new HttpError(
        403,
        `Your role (${request.session.user.role}) may not do this: it needs the ${needed} role.`,
      );
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Referrer-Policy', 'same-origin');
    reply.header(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    if (!request.url.startsWith('/assets/')) reply.header('Cache-Control', 'no-store');
    return payload;
  });

  app.setErrorHandler(async (err: Error & { statusCode?: number }, request, reply) => {
    const down = unavailableService(err);
    if (down) {
      deps.log.warn({ err: err.message, url: request.url, service: down }, 'console: a service is unavailable');
      const message = `${down} is unavailable right now, so this page cannot be shown or this change made. Nothing was lost; try again in a minute.`;
      // Plain text, and no page template: the page itself may need the database.
      return reply
        .code(503)
        .header('Retry-After', '30')
        .type('text/plain; charset=utf-8')
        .send(message + '\n');
    }
    const status =
      err instanceof HttpError
        ? err.statusCode
        : err.statusCode && err.statusCode >= 400 && err.statusCode < 500
          ? err.statusCode
          : 500;
    const message = status === 500 ? 'Something went wrong on the server; it has been logged.' : err.message;
    if (status === 500) deps.log.error({ err, url: request.url }, 'console: request failed');
    if (request.headers.accept?.includes('application/json') && !request.headers.accept.includes('text/html')) {
      return reply.code(status).send({ error: message });
    }
    return reply.page('error', { title: status === 429 ? 'Too many attempts' : 'Refused', status, message }, status);
  });
  app.setNotFoundHandler(async (request, reply) =>
    reply.page('error', { title: 'Not found', status: 404, message: `Nothing at ${request.url}.` }, 404),
  );

  // Every change, download and 403 lands in the audit log (audit.ts).
  registerConsoleAudit(app, ctx);
  await app.register(async (scope) => loginRoutes(scope, ctx));
  await app.register(async (scope) => dashboardRoutes(scope, ctx));
  await app.register(async (scope) => quarantineRoutes(scope, ctx));
  await app.register(async (scope) => tenantRoutes(scope, ctx));
  await app.register(async (scope) => rateRoutes(scope, ctx));
  await app.register(async (scope) => adminRoutes(scope, ctx));
  await app.register(async (scope) => monthEndRoutes(scope, ctx));
  await app.register(async (scope) => rerateRoutes(scope, ctx));

  // Expired sessions are deleted now and then (an expired one is refused either way).
  const sweep = setInterval(
    () =>
      void deleteExpiredSessions(deps.pool, opts.sessionMaxHours * 3600).catch((err: unknown) =>
        deps.log.warn({ err }, 'console: could not delete expired sessions; will try again in ten minutes'),
      ),
    10 * 60_000,
  );
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));
  return app;
}

/**
 * Free text from the carrier (customer and product names, domains, reasons) and from admins is
 * stored whole; a page shows at most `max` characters of it, ending in "…" when cut.
 */
export function cutText(value: string | number | null | undefined, max = 80): string {
  const text = value === null || value === undefined ? '' : String(value);
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const DATABASE_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '53300', // too_many_connections
]);

/**
 * "The database" or "Temporal" when a failure is that service being down or unreachable (the
 * console then answers 503, as a load balancer and a person expect), null for anything else.
 */
export function unavailableService(err: unknown): 'The database' | 'Temporal' | null {
  for (let e = err as (Error & { code?: unknown; cause?: unknown }) | undefined, depth = 0; e && depth < 8; depth++) {
    if (e.name === 'DatabaseUnavailableError') return 'The database';
    if (typeof e.code === 'string' && DATABASE_DOWN_CODES.has(e.code)) return 'The database';
    if (
      /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(
        e.message ?? '',
      )
    )
      return 'The database';
    // gRPC's UNAVAILABLE (14) and DEADLINE_EXCEEDED (4), as the Temporal client reports them.
    if ((e.code === 14 || e.code === 4) && ('details' in e || 'metadata' in e)) return 'Temporal';
    if (e.name === 'ServiceError' && /UNAVAILABLE|DEADLINE_EXCEEDED|failed to connect/i.test(e.message ?? ''))
      return 'Temporal';
    e = e.cause as typeof e;
  }
  return null;
}

export interface RunningConsole {
  url: string;
  close(): Promise<void>;
}

/** Binds to 127.0.0.1 unless told otherwise: the console is for the people on this machine or behind a proxy. */
export async function startConsole(
  deps: ConsoleDeps,
  listen: { port: number; host?: string },
  options: ConsoleOptions = {},
): Promise<RunningConsole> {
  const app = await buildConsole(deps, options);
  const host = listen.host ?? '127.0.0.1';
  await app.listen({ port: listen.port, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, close: () => app.close() };
}

export { HttpError, type ConsoleDeps, type ConsoleOptions } from './context';
