import type { Dataset } from '../../carrier/simulator/dataset';
import { parseLosslessJson } from '../../lib/lossless';
import { rateRecords } from '../../core/rate-file';
import { demoRateCard } from '../../carrier/simulator/demo-card';
import type { ServiceRef } from '../../core/rating';
import { Decimal } from '../../core/money';

/**
 * What a cycle must produce, counted from the simulator's own data: each generated line's kind
 * says whether it is billed, quarantined (and why) or an exact repeat.
 */
export function expectedOutcomes(dataset: Dataset, providerIndex: number) {
  const p = dataset.providers[providerIndex]!;
  const counts: Record<string, number> = {};
  for (let i = 0; i < p.usageRecords; i++) {
    const o = dataset.expectedOutcome(providerIndex, i);
    counts[o] = (counts[o] ?? 0) + 1;
  }
  const { BILLED = 0, REPEAT = 0, ...quarantined } = counts;
  return {
    billed: BILLED + p.extraLines.length,
    repeats: REPEAT,
    quarantined,
    total: p.usageRecords + p.extraLines.length,
  };
}

/** Straight recomputation of the charge and cost totals of every line the simulator serves. */
export function recomputedTotals(dataset: Dataset, providerIndex: number, services: ServiceRef[]) {
  const p = dataset.providers[providerIndex]!;
  const records = Array.from({ length: p.usageRecords + p.extraLines.length }, (_, i) =>
    parseLosslessJson(dataset.usageLineJson(providerIndex, i)),
  );
  const lines = rateRecords(demoRateCard(dataset, p.currency), services, records);
  let charge = new Decimal(0);
  let cost = new Decimal(0);
  for (const l of lines) {
    if (l.status !== 'COMPLETED') continue;
    charge = charge.plus(l.charge!);
    cost = cost.plus(l.cost!);
  }
  return {
    charge: charge.toFixed(4),
    cost: cost.toFixed(4),
    billed: lines.filter((l) => l.status === 'COMPLETED').length,
  };
}
