import {
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RerateCustomerFigures, RerateFigures } from '../core/corrections';
import { CSP_PROVIDER_ID } from './search-attributes';

export interface RerateInput {
  providerId: string;
  /** YYYY-MM: the month whose live charges are re-rated (open; a closed month is refused). */
  period: string;
  productId?: string | null;
  serviceId?: string | null;
  by: string;
  osUser?: string;
  principal?: string;
  /** Where a continued run resumes, and what the runs before it counted. */
  resume?: { afterChargeId: number; examined: number; changed: number };
}

export interface RerateResult extends RerateFigures {
  providerId: string;
  period: string;
  applied: true;
  byCustomer: RerateCustomerFigures[];
}

/** One batch of a re-rate: the live charges of its scope after `afterChargeId`. */
export interface RerateBatchInput {
  providerId: string;
  period: string;
  productId?: string | null;
  serviceId?: string | null;
  afterChargeId: number;
  /** Tags the credits and charges written (the re-rate's workflow id). */
  tag: string;
}

/** The activities this workflow calls (activities/rerate.ts implements them). */
export interface RerateActivities {
  rerateBatch(input: RerateBatchInput): Promise<{ examined: number; lines: number; next: number | null }>;
  rerateOutcome(input: {
    providerId: string;
    tag: string;
  }): Promise<RerateFigures & { byCustomer: RerateCustomerFigures[] }>;
}

const { rerateBatch, rerateOutcome } = proxyActivities<RerateActivities>({
  startToCloseTimeout: '2 minutes',
  // A closed month (PERIOD_CLOSED) and data errors are non-retryable; the rest is the moment.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

/**
 * Re-rates a month: every live charge in scope whose amount under today's rate card differs is
 * credited and charged again, a batch at a time. The charges never enter history: batches return
 * counts, and the outcome is read back from the entries the re-rate wrote. Running it again
 * changes nothing.
 */
export async function rerateWorkflow(input: RerateInput): Promise<RerateResult> {
  const tag = workflowInfo().workflowId;
  upsertSearchAttributes([{ key: CSP_PROVIDER_ID, value: input.providerId }]);
  let { afterChargeId, examined, changed } = input.resume ?? { afterChargeId: 0, examined: 0, changed: 0 };
  const scope = [input.productId && `product ${input.productId}`, input.serviceId && `service ${input.serviceId}`]
    .filter(Boolean)
    .join(', ');
  const progress = () =>
    setCurrentDetails(
      `Re-rating ${input.period}${scope ? ` (${scope})` : ''} for ${input.by}: ${examined} live charge(s) read, ${changed} credited and charged again`,
    );
  progress();
  for (;;) {
    const batch = await rerateBatch({ ...input, afterChargeId, tag });
    examined += batch.examined;
    changed += batch.lines;
    progress();
    if (batch.next === null) break;
    afterChargeId = batch.next;
    if (workflowInfo().continueAsNewSuggested)
      await continueAsNew<typeof rerateWorkflow>({ ...input, resume: { afterChargeId, examined, changed } });
  }
  const outcome = await rerateOutcome({ providerId: input.providerId, tag });
  setCurrentDetails(
    `**Re-rated ${input.period}${scope ? ` (${scope})` : ''}**: ${outcome.lines} charge(s) credited and charged again, ${outcome.oldCharge} → ${outcome.newCharge} (delta ${outcome.delta})`,
  );
  return { providerId: input.providerId, period: input.period, applied: true, ...outcome };
}
