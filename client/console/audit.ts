import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { providerOfTarget, recordScopeOutcome, runInAuditScope, type AuditScope } from '../../db/audit-events';
import type { Flash } from '../../db/console-sessions';
import { withoutSecrets } from '../audit';
import { str, type ConsoleContext } from './context';

/** Route parameters that name what is acted on, not the action (`/rates/:providerId/set`). */
const TARGET_PARAM = /id$|key$/i;
/** Form fields that name what is acted on, in the order they are preferred. */
const TARGET_FIELDS = ['key', 'username', 'serviceId', 'provider'];
const MAX_DETAIL_CHARS = 200;

interface Pending {
  scope: AuditScope;
  flash?: Flash;
  error?: string;
}

/** A form's action as the audit log names it: `writeOff` → `write-off`. */
export const actionWord = (formAction: string): string => formAction.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Console routes named as the CLI names the same action, so one `--action` filter finds both
 * (`period.close` whether it was closed in Month end or by `csp period close`).
 */
const CLI_ACTION_NAMES: Record<string, string> = {
  'tenants.quantity': 'tenant.set-quantity',
  'tenants.order': 'tenant.order',
  'tenants.cancel': 'tenant.cancel',
  'tenants.reactivate': 'tenant.reactivate',
  'tenants.contact': 'tenant.set-contact',
  'month-end.close': 'period.close',
  'month-end.reopen': 'period.reopen',
  'month-end.reconcile': 'invoice.reconcile',
  'month-end.export': 'billing.export',
  rerate: 'billing.rerate',
  'users.add': 'user.add',
  'users.remove': 'user.remove',
  'users.role': 'user.set-role',
};

/**
 * What a request asks for, from its route: its static segments and its verb parameters
 * (`POST /rates/:providerId/:edit` with edit=set → `rates.set`), or the form's `action`
 * (`quarantine.allocate`); and what it acts on (an id parameter, else a form field).
 */
export function requestAction(
  routeUrl: string,
  params: Record<string, string>,
  body: Record<string, unknown>,
): { action: string; target: string | null } {
  const parts: string[] = [];
  let target: string | null = null;
  for (const segment of routeUrl.split('/').filter(Boolean)) {
    if (!segment.startsWith(':')) parts.push(segment);
    else if (TARGET_PARAM.test(segment)) target ??= params[segment.slice(1)] ?? null;
    else parts.push(params[segment.slice(1)] ?? segment);
  }
  const formAction = str(body.action);
  const action = /^[a-zA-Z-]{1,40}$/.test(formAction) ? `${parts[0]}.${actionWord(formAction)}` : parts.join('.');
  target ??= TARGET_FIELDS.map((f) => str(body[f])).find((v) => v !== '') ?? null;
  return { action: CLI_ACTION_NAMES[action] ?? (action || 'home'), target };
}

/**
 * The console's part of the audit log: every request that changes something (any method but GET),
 * every download (an export) and every 403, applied or refused, with the signed-in user. The
 * outcome comes from the response: an error status or an error flash is REFUSED, with its message.
 * A route that records its own row (a sign-in, a rate change) keeps that one row.
 */
export function registerConsoleAudit(app: FastifyInstance, ctx: ConsoleContext): void {
  const pending = new WeakMap<FastifyRequest, Pending>();

  const flash = ctx.flash.bind(ctx);
  ctx.flash = async (request, f) => {
    const p = pending.get(request);
    if (p) p.flash = f;
    return flash(request, f);
  };

  app.addHook('preValidation', (request, _reply, done) => {
    if (request.url.startsWith('/assets/') || !request.routeOptions.url) return done();
    // What was asked: a form's fields, or a download's query.
    const body = { ...(request.query as Record<string, unknown>), ...(request.body as Record<string, unknown>) };
    const params = (request.params ?? {}) as Record<string, string>;
    const { action, target } = requestAction(request.routeOptions.url, params, body);
    const principal = request.session?.user.username ?? null;
    // The route's parameters are in the action and target already.
    const given = Object.entries(body)
      .filter(([name]) => name !== '_csrf' && name !== 'next')
      .map(([name, v]): [string, unknown] => [name, typeof v === 'string' ? v.slice(0, MAX_DETAIL_CHARS) : v]);
    const scope: AuditScope = {
      source: 'console',
      action,
      actor: principal ?? (str(body.username).toLowerCase() || '(not signed in)'),
      principal,
      target,
      providerId: params.providerId ?? null,
      details: withoutSecrets(given),
      remoteAddr: request.ip,
      recorded: false,
    };
    pending.set(request, { scope });
    // The route (and what it calls) runs inside the scope: a row it records is the action's row.
    runInAuditScope(scope, done);
  });

  app.addHook('onError', async (request, _reply, err) => {
    const p = pending.get(request);
    if (p) p.error = err.message;
  });

  app.addHook('onResponse', async (request, reply) => {
    const p = pending.get(request);
    if (!p || !audited(request, reply)) return;
    const refusal =
      reply.statusCode >= 400
        ? (p.error ?? `${reply.statusCode} ${request.method} ${request.url}`)
        : p.flash?.kind === 'error'
          ? p.flash.text.replace(/^Refused: /, '')
          : null;
    try {
      p.scope.providerId ??= p.scope.target ? await providerOfTarget(ctx.deps.pool, p.scope.target) : null;
      await recordScopeOutcome(ctx.deps.pool, p.scope, refusal === null ? 'APPLIED' : 'REFUSED', refusal);
    } catch (err) {
      ctx.deps.log.error({ err, url: request.url }, 'console: could not record an action in the audit log');
    }
  });
}

function audited(request: FastifyRequest, reply: FastifyReply): boolean {
  // A preview (of an allocation) reads and changes nothing, as `--preview` on the CLI.
  if (request.routeOptions.url?.endsWith('/preview')) return false;
  if (request.method !== 'GET' && request.method !== 'HEAD') return true;
  if (reply.statusCode === 403) return true;
  return /attachment/i.test(String(reply.getHeader('content-disposition') ?? ''));
}
