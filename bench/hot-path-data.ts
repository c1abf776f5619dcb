import { Dataset, currentMonth } from '../carrier/simulator/dataset';
import { demoRateCard } from '../carrier/simulator/demo-card';
import { normalizeGuid } from '../core/guid';

/**
 * The simulator's usage lines for the first demo provider, with what deciding them needs in memory
 * (a service per tenant, no allocations, the demo rate card): bench/hot-path.ts and
 * bench/pg-save.ts work on the same lines.
 */
export function benchUsage(records: number, pageSize: number) {
  const dataset = new Dataset({ seed: 42, usageRecords: records, usageMonth: currentMonth(), providers: 2 });
  const provider = dataset.providers[0]!;
  const billing = {
    services: provider.tenants.map((t, i) => ({
      serviceId: `svc-${i}`,
      tenantId: normalizeGuid(t.tenantId),
      cancelledOn: null,
    })),
    allocatedTenants: new Map<string, string>(),
    card: demoRateCard(dataset, provider.currency),
  };
  /** The carrier's pages, as the JSON texts it sends. */
  const pageTexts = function* (): Generator<string> {
    for (let from = 0; from < records; from += pageSize)
      yield dataset.usagePage(0, from, Math.min(records, from + pageSize)).toString('utf8');
  };
  return { billing, pageTexts };
}
