import type { FastifyInstance } from 'fastify';
import { listProviders } from '../../../db/providers';
import { closePeriod, listPeriods, periodState, PeriodStateError, reopenPeriod } from '../../../db/billing-periods';
import { listReconciliations } from '../../../db/invoice-reconciliations';
import { buildChargesReport, buildExport } from '../../month-end';
import { REPORT_GROUPINGS, shownFigures, type ReportGrouping } from '../../../core/billing-report';
import { isPeriod, monthIn } from '../../../core/period';
import { RECONCILIATION_CLASSES, centsText, type Reconciliation } from '../../../core/reconciliation-report';
import { HttpError, str, type ConsoleContext } from '../context';

/** Month end: the charges report with a margin chart, reconciliation results, exports, period close. */
export async function monthEndRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const { pool } = ctx.deps;

  const target = async (q: Record<string, unknown>) => {
    const providers = await listProviders(pool, true);
    const provider = providers.find((p) => p.id === str(q.provider)) ?? providers[0] ?? null;
    const period = isPeriod(str(q.period)) ? str(q.period) : provider ? monthIn(new Date(), provider.time_zone) : '';
    return { providers, provider, period };
  };

  app.get('/month-end', { config: { role: 'viewer' } }, async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const { providers, provider, period } = await target(q);
    if (!provider) return reply.page('month-end', { title: 'Month end', providers, provider: null });
    const by = (REPORT_GROUPINGS as readonly string[]).includes(str(q.by)) ? (str(q.by) as ReportGrouping) : 'customer';
    const report = await buildChargesReport(pool, provider, period, by);
    const label = (r: (typeof report.rows)[number]) =>
      (by === 'product'
        ? (r.product ?? r.productId)
        : by === 'service'
          ? `${r.customer ?? ''} (${r.tenantDomain ?? r.service})`
          : r.customer) ?? '';
    // Chart figures are for drawing only (numbers); the table shows the exact amounts.
    const chart = {
      title: `${provider.name}, ${period}: charge, cost and margin by ${by}`,
      currency: provider.currency,
      labels: report.rows.map(label),
      charge: report.rows.map((r) => Number(r.charge)),
      cost: report.rows.map((r) => Number(r.cost)),
      margin: report.rows.map((r) => Number(r.margin)),
    };
    const state = await periodState(pool, provider.id, period);
    const history = (await listPeriods(pool, provider.id)).find((p) => p.period === period)?.events ?? [];
    const reconciliations = await listReconciliations<Reconciliation>(pool, provider.id, period);
    return reply.page('month-end', {
      title: `Month end: ${provider.name} ${period}`,
      charts: true,
      providers,
      provider,
      period,
      by,
      report,
      // The table's figures: the invoiced charge, the cost to the cent, margin = the two shown.
      rows: report.rows.map((r) => ({ ...r, ...shownFigures(r), label: label(r) })),
      totals: { ...report.totals, ...shownFigures(report.totals) },
      chart,
      state,
      history,
      reconciliations,
      classes: RECONCILIATION_CLASSES,
      centsText,
      groupings: REPORT_GROUPINGS,
    });
  });

  app.get('/month-end/export', { config: { role: 'billing' } }, async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const { provider, period } = await target(q);
    const format = str(q.format);
    if (!provider || !isPeriod(str(q.period))) throw new HttpError(400, 'Choose a provider and a period (YYYY-MM).');
    if (format !== 'csv' && format !== 'xero') throw new HttpError(400, 'The format is csv or xero.');
    const text = await buildExport(pool, provider, period, format);
    return reply
      .type('text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="${provider.id}-${period}-${format}.csv"`)
      .send(text);
  });

  app.post('/month-end/:change', { config: { role: 'billing' } }, async (request, reply) => {
    const change = (request.params as { change: string }).change;
    const body = request.body as Record<string, unknown>;
    const { provider, period } = await target(body);
    if (!provider || !isPeriod(str(body.period))) throw new HttpError(400, 'Choose a provider and a period (YYYY-MM).');
    const by = request.session!.user.username;
    try {
      if (change === 'close') {
        await closePeriod(pool, provider.id, period, by);
        await ctx.flash(request, { kind: 'ok', text: `${period} closed by ${by}: its charges no longer change.` });
      } else if (change === 'reopen') {
        await reopenPeriod(pool, provider.id, period, by, str(body.reason));
        await ctx.flash(request, { kind: 'ok', text: `${period} reopened by ${by}.` });
      } else {
        throw new HttpError(404, `Unknown month-end change "${change}".`);
      }
    } catch (err) {
      if (!(err instanceof PeriodStateError)) throw err;
      await ctx.flash(request, { kind: 'error', text: `Refused: ${err.message}` });
    }
    return reply.redirect(`/month-end?provider=${encodeURIComponent(provider.id)}&period=${period}`, 303);
  });
}
