import {
  ApplicationFailure,
  ActivityFailure,
  proxyActivities,
  setCurrentDetails,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReconciliationReport } from '../core/reconciliation-report';
import { reconciliationSummary } from '../core/reconciliation-report';
import { previousPeriodOf } from '../core/period';
import { CSP_PROVIDER_ID } from './search-attributes';

export interface InvoiceReconciliationInput {
  providerId: string;
  /** YYYY-MM; defaults to the month before the one the workflow starts in. */
  period?: string;
  /** The provider's time zone: which month "the month before" is (UTC when absent). */
  timeZone?: string;
  /** Scheduled runs wait this many days, checking daily, for an invoice not issued yet. */
  waitForInvoiceDays?: number;
}

export interface InvoiceReconciliationResult extends ReconciliationReport {
  reconciliationId: number;
  /** false: this invoice version had been reconciled before, and this is the stored result. */
  newlyStored: boolean;
  /** The invoice's NOT_IN_FEED lines after mediation: billed, or quarantined with their reason. */
  notInFeedMediated: NotInFeedOutcome;
  summary: string;
}

/** The invoice's NOT_IN_FEED lines after mediation. */
export interface NotInFeedOutcome {
  lines: number;
  billed: number;
  quarantined: number;
}

/** The activities this workflow calls (activities/invoices.ts implements them). */
export interface InvoiceReconciliationActivities {
  reconcileInvoice(input: {
    providerId: string;
    period: string;
    workflowId: string | null;
  }): Promise<{ reconciliationId: number; report: ReconciliationReport; created: boolean }>;
  mediateNotInFeed(input: { reconciliationId: number }): Promise<NotInFeedOutcome>;
}

const { reconcileInvoice, mediateNotInFeed } = proxyActivities<InvoiceReconciliationActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

/**
 * Reconciles a provider's monthly invoice from the carrier against the usage received: started
 * by the provider's monthly schedule (for the month before) and on demand for a given month.
 * Invoice lines never enter history: the activities store them and return counts and sums.
 */
export async function invoiceReconciliationWorkflow(
  input: InvoiceReconciliationInput,
): Promise<InvoiceReconciliationResult> {
  const period = input.period ?? previousPeriodOf(new Date(workflowInfo().startTime), input.timeZone);
  upsertSearchAttributes([{ key: CSP_PROVIDER_ID, value: input.providerId }]);
  setCurrentDetails(`Reconciling the carrier's invoice for ${period}`);
  let waited = 0;
  for (;;) {
    try {
      const { reconciliationId, report, created } = await reconcileInvoice({
        providerId: input.providerId,
        period,
        workflowId: workflowInfo().workflowId,
      });
      const notInFeedMediated = await mediateNotInFeed({ reconciliationId });
      const summary = reconciliationSummary(report);
      // Shown in the Web UI beside the result.
      setCurrentDetails(
        `**${summary}**\n\n${notInFeedMediated.lines} invoice-only line(s) mediated: ${notInFeedMediated.billed} billed, ${notInFeedMediated.quarantined} quarantined` +
          (report.differenceCents !== 0 ? '\n\nThe provider is marked as needing attention with this figure.' : ''),
      );
      return { ...report, reconciliationId, newlyStored: created, notInFeedMediated, summary };
    } catch (err) {
      const type =
        err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.type : undefined;
      if (type !== 'INVOICE_NOT_FOUND' || waited >= (input.waitForInvoiceDays ?? 0)) {
        setCurrentDetails(
          `Failed: ${(err instanceof ActivityFailure && err.cause?.message) || (err as Error).message}`,
        );
        throw err;
      }
      waited++;
      setCurrentDetails(
        `No invoice for ${period} yet: checking again tomorrow (day ${waited} of ${input.waitForInvoiceDays})`,
      );
      await sleep('1 day');
    }
  }
}
