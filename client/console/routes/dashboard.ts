import type { FastifyInstance } from 'fastify';
import { listProviders } from '../../../db/providers';
import { cycleOverview, quarantineTotals, runningCycles } from '../../../db/console-views';
import { buildChargesReport } from '../../month-end';
import { shownFigures } from '../../../core/billing-report';
import { mismatchCurrencies } from '../../../db/quarantined-lines';
import { amountsCurrency } from '../../display';
import { parseGroupKey } from '../../../core/quarantine-group';
import { attentionReasons, byAttention, progressPercent } from '../view';
import { monthIn } from '../../../core/period';
import { cycleProgress, nextCycleAt } from '../temporal';
import type { ConsoleContext } from '../context';
import { getRateCard } from '../../../db/rates';
import { cataloguedProductIds } from '../../../db/product-catalogue';
import { rateCardCoverage, type RateCardCoverage } from '../../../core/product-catalogue';

/** Products the carrier sells that nothing would rate: flagged before the first cycle quarantines their usage. */
function coverageReasons(c: RateCardCoverage): string[] {
  const uncovered = c.seen - c.covered;
  if (c.defaultMarkup || uncovered === 0) return [];
  return [
    `${uncovered} of ${c.seen} product${c.seen === 1 ? '' : 's'} without a rate and no default markup: their usage will be quarantined as NO_RATE_CARD`,
  ];
}

export async function dashboardRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const { pool } = ctx.deps;

  const liveProgress = async (cycleIds: string[]) =>
    Promise.all(
      cycleIds.map(async (id) => {
        const p = await cycleProgress(ctx.deps, id);
        return {
          id,
          phase: p?.phase ?? 'unknown',
          percent: p ? progressPercent(p) : null,
          fetched: p?.linesFetched ?? 0,
          mediated: p?.linesMediated ?? 0,
          billed: p?.billed ?? 0,
          quarantined: p?.quarantined ?? 0,
        };
      }),
    );

  app.get('/', { config: { role: 'viewer' } }, async (_request, reply) => {
    const now = new Date();
    const providers = await listProviders(pool);
    const cycles = await cycleOverview(pool);
    const quarantine = await quarantineTotals(pool);
    // CURRENCY_MISMATCH lines are in their records' currencies: their total is labelled with those.
    const foreign = new Map<string, string[]>();
    if (quarantine.some((q) => q.reason === 'CURRENCY_MISMATCH')) {
      for (const [key, currencies] of await mismatchCurrencies(pool, {})) {
        const providerId = parseGroupKey(key).providerId;
        foreign.set(providerId, [...(foreign.get(providerId) ?? []), ...currencies]);
      }
    }
    // This month as Month end shows it (and as it will be invoiced): the same report, each
    // provider's month in its own zone.
    const months = await Promise.all(
      providers.map(async (p) => {
        const { totals } = await buildChargesReport(pool, p, monthIn(now, p.time_zone), 'customer');
        return totals.lines === 0 ? null : { lines: totals.lines, ...shownFigures(totals) };
      }),
    );
    const progress = await liveProgress(cycles.running.map((c) => c.id));
    const schedules = await Promise.all(providers.map((p) => nextCycleAt(ctx.deps, p.id)));
    const catalogued = await cataloguedProductIds(pool);
    const cards = await Promise.all(providers.map((p) => getRateCard(pool, p.id)));
    const providerCards = byAttention(
      providers.map((p, i) => {
        const last = cycles.last.find((c) => c.provider_id === p.id) ?? null;
        const reasons = quarantine
          .filter((q) => q.provider_id === p.id)
          .map((q) => ({
            ...q,
            currency: amountsCurrency(p.currency, q.reason === 'CURRENCY_MISMATCH' ? foreign.get(p.id) : []),
          }));
        const health = {
          name: p.name,
          status: p.status,
          attentionReason: p.attention_reason,
          lastCycleStatus: last?.status ?? null,
          lastCycleError: last?.error ?? null,
          quarantinedLines: reasons.reduce((n, r) => n + r.lines, 0),
        };
        const coverage = rateCardCoverage(cards[i] ?? null, catalogued.get(p.id) ?? []);
        return {
          ...health,
          provider: p,
          attention: [...attentionReasons(health), ...coverageReasons(coverage)],
          coverage,
          defaultMarkup: cards[i]?.defaultMarkupPercent?.toFixed() ?? null,
          last,
          running: cycles.running
            .filter((c) => c.provider_id === p.id)
            .map((c) => ({ cycle: c, progress: progress.find((x) => x.id === c.id)! })),
          schedule: schedules[i],
          quarantine: reasons,
          period: monthIn(now, p.time_zone),
          month: months[i] ?? null,
        };
      }),
    );
    return reply.page('dashboard', { title: 'Dashboard', cards: providerCards, anyRunning: cycles.running.length > 0 });
  });

  // Polled by the dashboard's script while cycles run: the progress bars move without a reload.
  app.get('/api/progress', { config: { role: 'viewer' } }, async () => {
    const running = await runningCycles(pool);
    return { cycles: await liveProgress(running.map((c) => c.id)) };
  });
}
