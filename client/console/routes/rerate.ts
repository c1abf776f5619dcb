import type { FastifyInstance } from 'fastify';
import { listProviders } from '../../../db/providers';
import { isPeriodClosed } from '../../../db/billing-periods';
import { getService } from '../../../db/services';
import { isPeriod, monthIn } from '../../../core/period';
import { isGuid } from '../../../core/guid';
import { closedPeriodRefusal, previewRerate } from '../../../activities/rerate';
import { RerateRefused, runRerate } from '../../../workflows/rerate.api';
import { HttpError, str, type ConsoleContext } from '../context';

/**
 * Re-rating a month from the console: the preview (what today's rate card changes, per customer)
 * and, for the billing role, the apply, which runs the re-rate workflow and waits a little for it.
 */
export async function rerateRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const { pool } = ctx.deps;

  /** The re-rate a request asks for, checked: an unknown provider, period, product or service is a 400. */
  const scopeOf = async (q: Record<string, unknown>) => {
    const providers = await listProviders(pool, true);
    const provider = providers.find((p) => p.id === str(q.provider)) ?? providers[0] ?? null;
    if (!provider) return { providers, provider: null, scope: null };
    const period = str(q.period) || monthIn(new Date(), provider.time_zone);
    if (!isPeriod(period)) throw new HttpError(400, 'The period is YYYY-MM.');
    const productId = str(q.product) || null;
    if (productId !== null && !isGuid(productId)) throw new HttpError(400, 'The product is a product GUID.');
    let serviceId: string | null = null;
    if (str(q.service)) {
      const s = await getService(pool, str(q.service));
      if (!s || s.provider_id !== provider.id)
        throw new HttpError(400, `No service "${str(q.service)}" of ${provider.name}.`);
      serviceId = s.id;
    }
    return { providers, provider, scope: { providerId: provider.id, period, productId, serviceId } };
  };

  app.get('/rerate', { config: { role: 'billing' } }, async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const { providers, provider, scope } = await scopeOf(q);
    if (!provider || !scope) return reply.page('rerate', { title: 'Re-rate', providers, provider: null });
    const closed = await isPeriodClosed(pool, provider.id, scope.period);
    const preview = closed || !q.period ? null : await previewRerate(pool, scope);
    return reply.page('rerate', {
      title: `Re-rate: ${provider.name} ${scope.period}`,
      providers,
      provider,
      scope,
      closed: closed ? closedPeriodRefusal(scope.period) : null,
      preview,
    });
  });

  app.post('/rerate', { config: { role: 'billing' } }, async (request, reply) => {
    const body = request.body as Record<string, unknown>;
    const { provider, scope } = await scopeOf(body);
    if (!provider || !scope) throw new HttpError(400, 'Choose a provider.');
    const user = request.session!.user.username;
    const back = `/rerate?provider=${encodeURIComponent(provider.id)}&period=${scope.period}${scope.productId ? `&product=${scope.productId}` : ''}${scope.serviceId ? `&service=${encodeURIComponent(scope.serviceId)}` : ''}`;
    if (await isPeriodClosed(pool, provider.id, scope.period)) {
      await ctx.flash(request, { kind: 'error', text: `Refused: ${closedPeriodRefusal(scope.period)}` });
      return reply.redirect(back, 303);
    }
    try {
      const run = await runRerate(ctx.deps, { ...scope, by: user, principal: user }, 30_000);
      await ctx.flash(request, {
        kind: 'ok',
        text:
          run.status === 'running'
            ? `Accepted: ${run.workflowId} is still running; its progress shows in the Temporal Web UI.`
            : run.result.lines === 0
              ? `Re-rated ${scope.period} by ${user}: no charge changes under today's rate card.`
              : `Re-rated ${scope.period} by ${user}: ${run.result.lines} charge(s) credited and charged again, delta ${run.result.delta} ${provider.currency}.`,
      });
    } catch (err) {
      if (!(err instanceof RerateRefused)) throw err;
      await ctx.flash(request, { kind: 'error', text: `Refused: ${err.message}` });
    }
    return reply.redirect(back, 303);
  });
}
