import type { Pool } from '../db/pool';
import { groupIdentity, groupSummaries, groupSummary } from '../db/quarantined-lines';
import { listServices } from '../db/services';
import { getProvider } from '../db/providers';
import { displayMoney } from '../client/display';
import { serviceSuggestions } from '../core/quarantine-group';
import type { GroupSummary } from '../workflows/quarantine-group.api';

/**
 * What a quarantine group's workflow shows (the Web UI's current details): its summary and, for
 * people, the customer and domain, lines and amount with the currency, the suggested service.
 */

interface ProviderView {
  name: string | null;
  currency: string;
  suggest: ReturnType<typeof serviceSuggestions>;
}

async function providerView(pool: Pool, providerId: string): Promise<ProviderView> {
  const provider = await getProvider(pool, providerId);
  return {
    name: provider?.name ?? null,
    currency: provider?.currency ?? '',
    suggest: serviceSuggestions(await listServices(pool, providerId)),
  };
}

function details(
  summary: GroupSummary,
  who: { customer: string | null; domain: string | null },
  p: ProviderView,
): string {
  const suggestion = p.suggest({ reason: summary.reason, ...who });
  return [
    `**${summary.reason}**: ${summary.lines} line(s), carrier charge ${displayMoney(summary.carrierCharge, p.currency)}${summary.periodFrom ? `, charges from ${summary.periodFrom} to ${summary.periodTo}` : ''}`,
    `Tenant ${summary.tenantRef}${who.domain ? ` (${who.domain})` : ''}${who.customer ? `, customer ${who.customer}` : ''}; provider ${p.name ?? summary.providerId} (${summary.providerId})`,
    suggestion
      ? `Suggested service: ${suggestion.id} (similarity ${suggestion.score.toFixed(2)})`
      : summary.reason === 'NON_EXISTENT_SERVICE'
        ? 'No similar service: allocate to one by hand, or add the tenant as a service.'
        : '',
  ]
    .filter(Boolean)
    .join('\n');
}

/** One group, as its workflow's loadGroupSummary activity reads it. */
export async function groupSummaryWithDetails(pool: Pool, groupKey: string): Promise<GroupSummary> {
  const summary = await groupSummary(pool, groupKey);
  return {
    ...summary,
    details: details(summary, await groupIdentity(pool, groupKey), await providerView(pool, summary.providerId)),
  };
}

/**
 * The same for many groups of one provider at once (set-based: one statement per call, the
 * provider and its services read once); groups with no quarantined line left are not returned.
 */
export async function groupSummariesWithDetails(
  pool: Pool,
  providerId: string,
  groupKeys: readonly string[],
): Promise<Map<string, GroupSummary>> {
  const out = new Map<string, GroupSummary>();
  if (groupKeys.length === 0) return out;
  const p = await providerView(pool, providerId);
  for (const { customer, domain, ...summary } of await groupSummaries(pool, groupKeys)) {
    out.set(summary.groupKey, { ...summary, details: details(summary, { customer, domain }, p) });
  }
  return out;
}
