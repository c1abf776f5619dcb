import type { FastifyInstance } from 'fastify';
import { listProviders } from '../../../db/providers';
import { getRateCard } from '../../../db/rates';
import { countAudit, listAudit } from '../../../db/audit-events';
import { providerServices } from '../../../db/console-views';
import { productCatalogue } from '../../../db/product-catalogue';
import { ruleForAllServices } from '../../../core/product-catalogue';
import { pricedRules } from '../../rate-catalogue';
import { displayMoney } from '../../display';
import { pageOf } from '../view';
import { RateEditError, removeRate, setDefaultMarkup, setRate, type RateEditor } from '../../rate-changes';
import { HttpError, str, type ConsoleContext } from '../context';
import type { RepricedMonth } from '../../../activities/rerate';
import type { ProviderView } from '../../../db/providers';

/** Field paths of core/rate-card's messages, as the form labels them. */
const formMessage = (m: string) =>
  m
    .replace('rule.productId', 'product')
    .replace('rule.serviceId', 'service')
    .replace('rule.kind', 'kind')
    .replace('rule.value', 'value');

export async function rateRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const { pool } = ctx.deps;
  const edits = { pool, temporal: ctx.deps.temporal, taskQueue: ctx.deps.taskQueue };

  const providerOf = async (id: unknown) => {
    const p = (await listProviders(pool)).find((x) => x.id === str(id));
    if (!p) throw new HttpError(404, `No provider ${str(id)}.`);
    return p;
  };

  app.get('/rates', { config: { role: 'viewer' } }, async (request, reply) => {
    const providers = await listProviders(pool);
    const q = request.query as Record<string, string | undefined>;
    const provider = providers.find((p) => p.id === str(q.provider)) ?? providers[0];
    if (!provider) return reply.page('rates', { title: 'Rates', providers, provider: null });
    const card = await getRateCard(pool, provider.id);
    const products = await productCatalogue(pool, provider.id);
    const rules = pricedRules(card, products);
    // Products whose lines no rule (nor the default markup) rates on every service: NO_RATE_CARD.
    const uncovered = products.filter((x) => ruleForAllServices(card, x.productId) === null);
    const rulePage = pageOf(rules.length, q.page);
    const auditFilter = { kindPrefix: 'rate.', providerId: provider.id };
    const auditPage = pageOf(await countAudit(pool, auditFilter), q.auditPage, 10);
    const audit = await listAudit(pool, auditFilter, { offset: auditPage.offset, limit: auditPage.size });
    return reply.page('rates', {
      title: `Rates: ${provider.name}`,
      providers,
      provider,
      card,
      products,
      uncovered,
      services: await providerServices(pool, provider.id),
      rules: rules.slice(rulePage.offset, rulePage.offset + rulePage.size),
      rulePage,
      audit,
      auditPage,
      query: q,
    });
  });

  /** After a rule is set: its product by name, and what a licence sells for under it. */
  const sellsAt = async (provider: ProviderView, set: { productId: string; serviceId: string | null }) => {
    const rules = pricedRules(await getRateCard(pool, provider.id), await productCatalogue(pool, provider.id));
    const rule = rules.find((x) => x.productId === set.productId && x.serviceId === set.serviceId);
    if (!rule?.productName) return '';
    const price = rule.sellPrice
      ? ` sells at ${displayMoney(rule.sellPrice, provider.currency)} per licence per full period`
      : '';
    return ` ${rule.productName}${price}.`;
  };

  const editor = (request: { session: { user: { username: string } } | null; ip: string }): RateEditor => ({
    actor: request.session!.user.username,
    source: 'console',
    remoteAddr: request.ip,
  });

  app.post('/rates/:providerId/:edit', { config: { role: 'billing' } }, async (request, reply) => {
    const params = request.params as { providerId: string; edit: string };
    const provider = await providerOf(params.providerId);
    const body = request.body as Record<string, unknown>;
    const back = `/rates?provider=${encodeURIComponent(provider.id)}`;
    try {
      if (params.edit === 'set') {
        const r = await setRate(
          edits,
          provider,
          {
            productId: str(body.productId),
            serviceId: str(body.serviceId),
            kind: str(body.kind),
            value: str(body.value),
          },
          editor(request),
        );
        const shown = (x: typeof r.old) => (x ? `${x.kind}${x.value !== null ? ` ${x.value}` : ''}` : 'no rule');
        await ctx.flash(request, {
          kind: 'ok',
          text: `Rule for ${r.new!.productId}${r.new!.serviceId ? ` on ${r.new!.serviceId}` : ''}: ${shown(r.old)} → ${shown(r.new)}.${await sellsAt(provider, r.new!)}${r.cleansing ? ` ${r.cleansing} quarantine group(s) asked to cleanse themselves.` : ''}${repricedText(r.repriced)}`,
        });
      } else if (params.edit === 'remove') {
        const r = await removeRate(edits, provider, str(body.productId), str(body.serviceId), editor(request));
        await ctx.flash(request, {
          kind: 'ok',
          text: `Rule for ${str(body.productId)} removed.${repricedText(r.repriced)}`,
        });
      } else if (params.edit === 'default-markup') {
        const r = await setDefaultMarkup(edits, provider, str(body.percent) || 'none', editor(request), {
          allowNegative: str(body.allowNegative) === 'on',
        });
        await ctx.flash(request, {
          kind: 'ok',
          text: `Default markup: ${r.old ?? 'none'} → ${r.new ?? 'none'}.${repricedText(r.repriced)}`,
        });
      } else {
        throw new HttpError(404, `Unknown rate change "${params.edit}".`);
      }
    } catch (err) {
      if (!(err instanceof RateEditError)) throw err;
      await ctx.flash(request, { kind: 'error', text: `Refused: ${formMessage(err.message)}` });
    }
    return reply.redirect(back, 303);
  });
}

/** After a rate change: the open months it re-prices, and where to re-rate them (the Re-rate page). */
function repricedText(months: RepricedMonth[]): string {
  if (months.length === 0) return '';
  return ` Open month(s) with charges this change re-prices: ${months.map((m) => `${m.period} (${m.lines})`).join(', ')}; re-rate them from Month end → Re-rate (preview first).`;
}
