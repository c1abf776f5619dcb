import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import { carrierFor } from './deps';
import { classified } from './failures';
import { notifyGroups } from './quarantine-notify';
import { getProvider } from '../db/providers';
import { mediatePage } from './mediate';
import {
  INVOICE_SOURCE_PREFIX,
  countInvoiceLinesMediated,
  getReconciliation,
  receivedLinesForPeriod,
  setInvoiceAttention,
  storeReconciliation,
} from '../db/invoice-reconciliations';
import { canonicalJson } from '../lib/lossless';
import { recordBilled } from './metrics';
import { billedFromSource } from '../db/charges';
import type { InvoiceReconciliationActivities, NotInFeedOutcome } from '../workflows/invoice-reconciliation.api';
import { invoiceLineKey, invoiceRowToUsageRecord } from '../core/invoice-line';
import {
  DIFFERENCES_SHOWN,
  recordKeyOf,
  reconcile,
  reconciliationSummary,
  type ReconciliationReport,
  type StoredReconciliationReport as StoredReport,
} from '../core/reconciliation';

export function invoiceActivities(deps: ActivityDeps): InvoiceReconciliationActivities {
  return {
    /**
     * Fetches the provider's invoice for the month, classifies every line against the usage
     * received, and stores the result once per invoice version (a repeat returns the stored one).
     * A difference other than zero marks the provider for attention with the figure.
     */
    async reconcileInvoice(input: {
      providerId: string;
      period: string;
      workflowId: string | null;
    }): Promise<{ reconciliationId: number; report: ReconciliationReport; created: boolean }> {
      const provider = await getProvider(deps.pool, input.providerId);
      if (!provider)
        throw ApplicationFailure.nonRetryable(`provider ${input.providerId} does not exist`, 'PROVIDER_NOT_FOUND');
      const [year, month] = input.period.split('-').map(Number) as [number, number];
      const { invoiceId, rows } = await classified(async () => {
        const client = await carrierFor(deps, input.providerId);
        const invoice = (await client.listInvoices()).find((i) => i.UsageYear === year && i.UsageMonth === month);
        if (!invoice)
          throw ApplicationFailure.create({
            type: 'INVOICE_NOT_FOUND',
            message: `the carrier has no invoice for ${input.period} (yet)`,
            nonRetryable: true,
          });
        return { invoiceId: invoice.InvoiceId, rows: await client.getInvoiceCsv(invoice.InvoiceId) };
      });
      let keys;
      try {
        keys = rows.map((r, n) => invoiceLineKey(r, n));
      } catch (err) {
        throw ApplicationFailure.create({
          type: 'MALFORMED_INVOICE',
          message: `invoice ${invoiceId}: ${(err as Error).message}`,
          nonRetryable: true,
        });
      }
      const version = createHash('sha256').update(canonicalJson(rows)).digest('hex');
      const received = await receivedLinesForPeriod(deps.pool, input.providerId, input.period);
      const rec = reconcile(keys, received);
      const notInFeed = new Set(rec.differences.filter((d) => d.class === 'NOT_IN_FEED').map((d) => d.recordId));
      const seen = new Set<string>();
      const notInFeedRows = rows.filter((r, n) => {
        const id = recordKeyOf(keys[n]!.recordId);
        if (!notInFeed.has(id) || seen.has(id)) return false;
        seen.add(id);
        return true;
      });
      const report: ReconciliationReport = {
        providerId: input.providerId,
        period: input.period,
        invoiceId,
        version,
        currency: provider.currency,
        invoiceLines: rec.invoiceLines,
        classes: rec.classes,
        // Exact sums, each rounded once: the classes' exact differences add up to `difference`,
        // and differenceCents is that rounded once (never a sum of per-line cents).
        differenceCents: rec.differenceCents,
        difference: rec.difference,
        differences: rec.differences.slice(0, DIFFERENCES_SHOWN),
        differencesTotal: rec.differences.length,
      };
      const stored = await storeReconciliation<StoredReport>(deps.pool, {
        providerId: input.providerId,
        invoiceId,
        period: input.period,
        version,
        invoiceLines: rows.length,
        // Every differing line is kept for the dispute list; the report carries the first ones.
        report: { ...report, notInFeedRows, disputes: rec.differences },
        differenceCents: rec.differenceCents,
        workflowId: input.workflowId,
      });
      const { notInFeedRows: _rows, disputes: _disputes, ...storedReport } = stored.report;
      await setInvoiceAttention(
        deps.pool,
        input.providerId,
        stored.differenceCents === 0 ? null : reconciliationSummary(storedReport),
      );
      return { reconciliationId: stored.id, report: storedReport, created: stored.created };
    },

    /**
     * Invoice lines the feed never delivered are usage the reseller was charged for: they are
     * stored and mediated like any received line (billed or quarantined). Stored once: an exact
     * repeat adds no row, so a second run (or the feed sending the line later) bills nothing again.
     */
    async mediateNotInFeed(input: { reconciliationId: number }): Promise<NotInFeedOutcome> {
      const stored = await getReconciliation<StoredReport>(deps.pool, input.reconciliationId);
      if (!stored)
        throw ApplicationFailure.nonRetryable(`reconciliation ${input.reconciliationId} not found`, 'NOT_FOUND');
      const records = stored.report.notInFeedRows.map(invoiceRowToUsageRecord);
      const source = `${INVOICE_SOURCE_PREFIX}${stored.invoiceId}`;
      const mediatedBy = `${source}:${stored.version.slice(0, 16)}`;
      if (records.length > 0) {
        // One transaction: a data error stores nothing, and fails at once with its reason.
        const saved = await classified(() =>
          mediatePage(deps.pool, stored.providerId, { receivedBy: source, mediatedBy }, records),
        );
        // Lines billed by the reconciliation count in the billed metrics like a cycle's.
        if (saved.billed > 0) {
          const currency = (await getProvider(deps.pool, stored.providerId))?.currency ?? 'unknown';
          recordBilled(mediatedBy, {
            providerId: stored.providerId,
            currency,
            ...(await billedFromSource(deps.pool, stored.providerId, source, mediatedBy)),
          });
        }
        await notifyGroups(deps, stored.providerId, mediatedBy);
      }
      return countInvoiceLinesMediated(deps.pool, stored.providerId, stored.invoiceId);
    },
  };
}
