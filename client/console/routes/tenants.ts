import type { FastifyInstance } from 'fastify';
import { listProviders } from '../../../db/providers';
import { getService } from '../../../db/services';
import { listLicences } from '../../../db/licences';
import { countTenants, searchTenants } from '../../../db/console-views';
import { countLicenceEvents, recentLicenceEvents } from '../../../db/licence-events';
import { pageOf } from '../view';
import { tenantWorkflowId } from '../../../workflows/tenant.api';
import { changeTenant, Refused, StillRunning, tenantState, type TenantChange } from '../temporal';
import { HttpError, str, type ConsoleContext } from '../context';
import { ContactRefused, setTenantContact, tenantContact } from '../../contacts';
import { addressText, type PostalAddress } from '../../../core/contact';

export async function tenantRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const { pool } = ctx.deps;

  app.get('/tenants', { config: { role: 'viewer' } }, async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const providers = await listProviders(pool, true);
    const filter = { q: str(q.q).slice(0, 200), provider: str(q.provider) };
    const providerId = providers.some((p) => p.id === filter.provider) ? filter.provider : null;
    const total = await countTenants(pool, providerId, filter.q || null);
    const page = pageOf(total, q.page);
    const rows = (
      await searchTenants(pool, providerId, filter.q || null, { offset: page.offset, limit: page.size })
    ).map((t) => ({ ...t, provider: providers.find((p) => p.id === t.provider_id)! }));
    return reply.page('tenants', { title: 'Tenants', filter, rows, page, providers });
  });

  const serviceOf = async (id: unknown) => {
    const s = await getService(pool, str(id));
    if (!s || s.id !== str(id)) throw new HttpError(404, `No service ${str(id)}.`);
    const provider = (await listProviders(pool, true)).find((p) => p.id === s.provider_id)!;
    return { s, provider };
  };

  app.get('/tenants/:serviceId', { config: { role: 'viewer' } }, async (request, reply) => {
    const { s, provider } = await serviceOf((request.params as { serviceId: string }).serviceId);
    const q = request.query as Record<string, string | undefined>;
    const state = await tenantState(ctx.deps, s.provider_id, s.tenant_id);
    const licences = state?.licences ?? (await listLicences(pool, s.provider_id, s.tenant_id));
    const total = await countLicenceEvents(pool, s.provider_id, s.tenant_id);
    const page = pageOf(total, q.page);
    const events = await recentLicenceEvents(pool, s.provider_id, s.tenant_id, page.size, page.offset);
    const limits = new Map((state?.products ?? []).map((p) => [p.productId, p]));
    return reply.page('tenant', {
      title: `${s.customer_name ?? s.tenant_domain ?? s.id}`,
      s,
      provider,
      state,
      live: !!state,
      licences,
      limits,
      products: state?.products ?? [],
      events,
      page,
      workflowId: tenantWorkflowId(s.provider_id, s.tenant_id),
      today: new Date().toISOString().slice(0, 10),
      contact: await tenantContact(pool, s),
      addressText,
    });
  });

  // The invoice contact an admin sets for the tenant's customer; empty fields use the carrier's.
  app.post('/tenants/:serviceId/contact', { config: { role: 'billing' } }, async (request, reply) => {
    const { s } = await serviceOf((request.params as { serviceId: string }).serviceId);
    const body = request.body as Record<string, unknown>;
    const field = (name: string) => str(body[name]).trim().replace(/\s+/g, ' ') || null;
    const lines = [1, 2, 3, 4].map((n) => field(`line${n}`)).filter((l): l is string => l !== null);
    const parts = {
      city: field('city'),
      region: field('region'),
      postalCode: field('postalCode'),
      country: field('country'),
    };
    const address: PostalAddress | null =
      lines.length > 0 || Object.values(parts).some((v) => v !== null) ? { lines, ...parts } : null;
    const by = request.session!.user.username;
    try {
      const c = await setTenantContact(
        pool,
        s,
        { email: field('email'), address },
        { by, source: 'console', remoteAddr: request.ip },
      );
      await ctx.flash(request, {
        kind: 'ok',
        text: `Invoice contact of ${s.customer_name ?? s.id} saved by ${by}: ${c.contact.email ?? 'no email'}; ${addressText(c.contact.address) || 'no address'}.`,
      });
    } catch (err) {
      if (!(err instanceof ContactRefused)) throw err;
      await ctx.flash(request, { kind: 'error', text: `Refused: ${err.message}` });
    }
    return reply.redirect(`/tenants/${encodeURIComponent(s.id)}#contact`, 303);
  });

  const whole = (v: unknown, field: string) => {
    const t = str(v);
    if (!/^-?\d{1,9}$/.test(t)) throw new Refused(`${field} must be a whole number`);
    return Number(t);
  };

  app.post('/tenants/:serviceId/:change', { config: { role: 'billing' } }, async (request, reply) => {
    const params = request.params as { serviceId: string; change: string };
    const { s } = await serviceOf(params.serviceId);
    const body = request.body as Record<string, unknown>;
    // The signed-in user: the name on the change and its authenticated principal.
    const by = request.session!.user.username;
    const back = `/tenants/${encodeURIComponent(s.id)}`;
    try {
      let change: TenantChange;
      switch (params.change) {
        case 'quantity':
          change = {
            kind: 'setQuantity',
            subscriptionId: str(body.subscriptionId),
            quantity: whole(body.quantity, 'quantity'),
            by,
          };
          break;
        case 'order': {
          const cycle = str(body.billingCycle) || 'Monthly';
          if (cycle !== 'Monthly' && cycle !== 'Annual') throw new Refused('billing cycle must be Monthly or Annual');
          change = {
            kind: 'order',
            productId: str(body.productId),
            quantity: whole(body.quantity, 'quantity'),
            billingCycle: cycle,
            by,
          };
          break;
        }
        case 'cancel':
          change = { kind: 'cancel', effectiveDate: str(body.effectiveDate) || undefined, by };
          break;
        case 'reactivate':
          change = { kind: 'reactivate', by };
          break;
        default:
          throw new HttpError(404, `Unknown change "${params.change}".`);
      }
      const r = await changeTenant(ctx.deps, s.provider_id, s.tenant_id, change);
      const text =
        change.kind === 'cancel'
          ? `Billing of ${s.id} stops from ${r.cancelledOn}. The licence at Rhipe is NOT cancelled: do that in Rhipe's portal or Office 365 if intended.`
          : change.kind === 'reactivate'
            ? `${s.id} is billed again; its SERVICE_INACTIVE lines are being cleansed.`
            : `Done (change ${r.changeId}) by ${by}: ${r.licences.map((l) => `${l.productName ?? l.productId} × ${l.quantity}`).join('; ')}`;
      await ctx.flash(request, { kind: 'ok', text });
    } catch (err) {
      if (err instanceof StillRunning) {
        // Accepted: the outcome shows on the page (and in the audit trail) once it is done.
        await ctx.flash(request, { kind: 'ok', text: err.message.charAt(0).toUpperCase() + err.message.slice(1) });
        return reply.redirect(back, 303);
      }
      if (!(err instanceof Refused)) throw err;
      await ctx.flash(request, { kind: 'error', text: `Refused: ${err.message}` });
    }
    return reply.redirect(back, 303);
  });
}
