import type { FastifyInstance } from 'fastify';
import { listProviders } from '../../../db/providers';
import { closePeriod, listPeriods, periodState, PeriodStateError, reopenPeriod } from '../../../db/billing-periods';
import { listReconciliations } from '../../../db/invoice-reconciliations';
import { buildChargesReport, buildExport, disputeCsv, disputeList } from '../../month-end';
import { REPORT_GROUPINGS, shownFigures, type ReportGrouping } from '../../../core/billing-report';
import { isPeriod, monthIn } from '../../../core/period';
import {
  RECONCILIATION_CLASSES,
  centsText,
  classFigures,
  classFiguresTotal,
  type ReconciliationClass,
  type ReconciliationReport,
} from '../../../core/reconciliation';
import { ReconciliationFailed, runInvoiceReconciliation } from '../../../workflows/invoice-reconciliation.api';
import { pageOf } from '../view';
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
    const reconciliations = (await listReconciliations<ReconciliationReport>(pool, provider.id, period)).map((r) => {
      const figures = classFigures(r.report.classes);
      return { ...r, figures, total: classFiguresTotal(figures) };
    });
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

  /** A stored reconciliation of the chosen provider, by id (a 404 otherwise). */
  const reconciliationOf = async (q: Record<string, unknown>) => {
    const { provider } = await target(q);
    const id = /^\d{1,15}$/.test(str(q.id)) ? Number(str(q.id)) : NaN;
    const disputes = provider && Number.isFinite(id) ? await disputeList(pool, provider.id, id) : null;
    if (!provider || !disputes) throw new HttpError(404, 'No such reconciliation of this provider.');
    return { provider, id, ...disputes };
  };

  // Runs the same reconciliation as `csp invoice reconcile`, waiting at most the admin wait.
  app.post('/month-end/reconcile', { config: { role: 'billing' } }, async (request, reply) => {
    const body = request.body as Record<string, unknown>;
    const { provider, period } = await target(body);
    if (!provider || !isPeriod(str(body.period))) throw new HttpError(400, 'Choose a provider and a period (YYYY-MM).');
    const back = `/month-end?provider=${encodeURIComponent(provider.id)}&period=${period}`;
    try {
      const run = await runInvoiceReconciliation(ctx.deps, provider.id, period);
      if (run.status === 'running') {
        await ctx.flash(request, {
          kind: 'ok',
          text: `Accepted: ${run.workflowId} is still running; reload this page for its result.`,
        });
        return reply.redirect(back, 303);
      }
      const r = run.result;
      await ctx.flash(request, { kind: 'ok', text: `Reconciled by ${request.session!.user.username}: ${r.summary}.` });
      return reply.redirect(
        `/month-end/reconciliation?provider=${encodeURIComponent(provider.id)}&id=${r.reconciliationId}`,
        303,
      );
    } catch (err) {
      if (!(err instanceof ReconciliationFailed)) throw err;
      await ctx.flash(request, { kind: 'error', text: `Refused: ${err.message}` });
      return reply.redirect(back, 303);
    }
  });

  // One reconciliation: its classes and its differing lines, per class, in pages.
  app.get('/month-end/reconciliation', { config: { role: 'viewer' } }, async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const { provider, id, stored, rows } = await reconciliationOf(q);
    const report = stored.report;
    const chosen = (RECONCILIATION_CLASSES as readonly string[]).includes(str(q.class))
      ? (str(q.class) as ReconciliationClass)
      : null;
    const lines = chosen ? rows.filter((r) => r.class === chosen) : rows;
    const page = pageOf(lines.length, q.page);
    return reply.page('reconciliation', {
      title: `Reconciliation: ${provider.name} ${report.period}`,
      provider,
      id,
      r: stored,
      link: stored.workflowId ? ctx.workflowLink(stored.workflowId) : null,
      figures: classFigures(report.classes),
      total: classFiguresTotal(classFigures(report.classes)),
      classes: RECONCILIATION_CLASSES,
      chosen,
      lines: lines.slice(page.offset, page.offset + page.size),
      // Reports stored before every differing line was kept list only the first ones.
      listed: rows.length,
      page,
      query: { provider: provider.id, id: String(id), ...(chosen ? { class: chosen } : {}) },
      centsText,
    });
  });

  // The dispute list to send to the carrier: every differing line, amounts to the cent.
  app.get('/month-end/disputes', { config: { role: 'viewer' } }, async (request, reply) => {
    const { provider, stored, rows } = await reconciliationOf(request.query as Record<string, unknown>);
    const report = stored.report;
    return reply
      .type('text/csv; charset=utf-8')
      .header(
        'Content-Disposition',
        `attachment; filename="${provider.id}-${report.period}-disputes-${report.invoiceId.replace(/[^\w.-]/g, '_')}.csv"`,
      )
      .send(disputeCsv(rows));
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
