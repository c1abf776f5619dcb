import { ApplicationFailure } from '@temporalio/activity';
import { recordBilled } from './metrics';
import { getProvider } from '../db/providers';
import type { ActivityDeps } from './deps';
import { classified } from './failures';
import { inTransaction, type Pool } from '../db/pool';
import { isPeriodClosed } from '../db/billing-periods';
import { getRateCard } from '../db/rates';
import {
  liveChargesInScope,
  openPeriodsWithCharges,
  recharge,
  rerateEntries,
  type LiveChargeRow,
  type Recharge,
  type RerateScope,
} from '../db/corrections';
import {
  RerateTally,
  rerateCharge,
  type LiveCharge,
  type RerateCustomerFigures,
  type RerateFigures,
  type RerateSummaryFigures,
} from '../core/corrections';
import { Decimal, formatMoney } from '../core/money';
import type { RateCard } from '../core/rating';
import { validateUsageRecord } from '../core/usage-record';
import { parseLosslessJson } from '../lib/lossless';
import type { RerateBatchInput } from '../workflows/rerate.api';

/** Live charges a re-rate reads (and, applying, credits and charges again) in one transaction. */
export const RERATE_BATCH = 500;

export interface RerateBatchResult extends RerateSummaryFigures {
  /** The last charge read; null when the scope holds no more. */
  next: number | null;
}

/** The period a re-rate may change: refused when closed, as the month's charges never change. */
export function closedPeriodRefusal(period: string): string {
  return `billing period ${period} is closed: reopen it first (period reopen … --reason …), then re-rate it`;
}

function liveCharge(row: LiveChargeRow): LiveCharge | null {
  const validated = validateUsageRecord(parseLosslessJson(row.raw));
  // A billed line was valid when billed; should it not parse now, it is left as billed.
  if (!validated.ok) return null;
  return {
    chargeId: row.id,
    serviceId: row.service_id,
    customer: row.customer,
    productId: row.product_key,
    charge: row.charge,
    record: validated.record,
  };
}

/** Decides one batch of live charges under today's card: the tally, and the charges that change. */
function decideBatch(card: RateCard | null, rows: LiveChargeRow[]): { tally: RerateTally; recharges: Recharge[] } {
  const tally = new RerateTally();
  const recharges: Recharge[] = [];
  for (const row of rows) {
    const charge = liveCharge(row);
    const outcome = charge && card ? rerateCharge(card, charge) : ({ kind: 'unrated' } as const);
    if (charge) tally.add(charge, outcome);
    else tally.unrated++;
    if (outcome.kind === 'changed')
      recharges.push({
        chargeId: row.id,
        charge: formatMoney(outcome.rated.charge),
        cost: formatMoney(outcome.rated.cost),
        margin: formatMoney(outcome.rated.margin),
        ruleKind: outcome.rated.ruleKind,
      });
  }
  return { tally, recharges };
}

/** What re-rating the scope would change, read without writing anything (the admin's preview). */
export async function previewRerate(pool: Pool, scope: RerateScope): Promise<RerateSummaryFigures> {
  const card = await getRateCard(pool, scope.providerId);
  const total = new RerateTally();
  for (let after = 0; ;) {
    const rows = await liveChargesInScope(pool, scope, after, RERATE_BATCH, false);
    if (rows.length === 0) break;
    total.merge(decideBatch(card, rows).tally.figures());
    after = rows[rows.length - 1]!.id;
  }
  return total.figures();
}

/** A month a rate change re-prices, and how many of its live charges. */
export interface RepricedMonth {
  period: string;
  lines: number;
}

/**
 * The open months holding live charges that today's rate card prices differently (after a rate
 * change: of its product, or every product for a default markup), so the admin can re-rate them.
 */
export async function repricedOpenMonths(
  pool: Pool,
  providerId: string,
  productId: string | null,
): Promise<RepricedMonth[]> {
  const months: RepricedMonth[] = [];
  for (const period of await openPeriodsWithCharges(pool, providerId, productId)) {
    const { lines } = await previewRerate(pool, { providerId, period, productId });
    if (lines > 0) months.push({ period, lines });
  }
  return months;
}

/** The command that re-rates each repriced month, for a message. */
export function rerateHint(providerId: string, months: RepricedMonth[], productId: string | null): string {
  if (months.length === 0) return '';
  return (
    `open month(s) with charges this change re-prices: ${months.map((m) => `${m.period} (${m.lines})`).join(', ')}; ` +
    `to apply it to them: npm run csp -- billing rerate --provider ${providerId} --period ${months[0]!.period}` +
    `${productId ? ` --product ${productId}` : ''} --apply --by NAME (preview without --apply)`
  );
}

export function rerateActivities(deps: Pick<ActivityDeps, 'pool'>) {
  return {
    /**
     * Re-rates one batch: every live charge whose amount under today's rate card differs is
     * credited and charged again, in one transaction with the charges locked. Retried, it changes
     * nothing more: a re-rated charge is no longer live, and its replacement already has today's
     * amount. A closed month is refused for good.
     */
    async rerateBatch(input: RerateBatchInput): Promise<RerateBatchResult> {
      return classified(() =>
        inTransaction(deps.pool, async (db) => {
          if (await isPeriodClosed(db, input.providerId, input.period))
            throw ApplicationFailure.nonRetryable(closedPeriodRefusal(input.period), 'PERIOD_CLOSED');
          const rows = await liveChargesInScope(db, input, input.afterChargeId, RERATE_BATCH, true);
          const { tally, recharges } = decideBatch(await getRateCard(db, input.providerId), rows);
          await recharge(db, recharges, input.tag);
          return { ...tally.figures(), next: rows.length === RERATE_BATCH ? rows[rows.length - 1]!.id : null };
        }),
      );
    },

    /** What the re-rate tagged `tag` wrote, read back: exact sums, overall and per customer. */
    async rerateOutcome(input: {
      providerId: string;
      tag: string;
    }): Promise<RerateFigures & { byCustomer: RerateCustomerFigures[] }> {
      const byCustomer = await rerateEntries(deps.pool, input.providerId, input.tag);
      const sum = (pick: (c: RerateCustomerFigures) => string) =>
        formatMoney(byCustomer.reduce((t, c) => t.plus(pick(c)), new Decimal(0)));
      const outcome = {
        lines: byCustomer.reduce((n, c) => n + c.lines, 0),
        oldCharge: sum((c) => c.oldCharge),
        newCharge: sum((c) => c.newCharge),
        delta: sum((c) => c.delta),
        byCustomer,
      };
      // Billing counts in the billed metrics wherever it happens: the lines charged again, and the
      // net change (the cost is the same SubTotal credited and charged again, so it nets to 0).
      const currency = (await getProvider(deps.pool, input.providerId))?.currency ?? 'unknown';
      recordBilled(input.tag, {
        providerId: input.providerId,
        currency,
        lines: outcome.lines,
        charge: outcome.delta,
        cost: '0',
        margin: outcome.delta,
      });
      return outcome;
    },
  };
}
