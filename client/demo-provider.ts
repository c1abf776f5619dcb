import type { Dataset } from '../carrier/simulator/dataset';
import { demoRateCard } from '../carrier/simulator/demo-card';
import { importRateCard } from '../db/rates';
import { addProvider, type ProviderContext } from './providers';

/**
 * Onboards one of the simulator's providers exactly as an admin would (credentials checked,
 * secret encrypted, tenants discovered), then gives it the demo rate card. Used by the demo
 * (npm start), the test harness and the benchmarks.
 */
export async function onboardSimulatorProvider(
  ctx: ProviderContext,
  dataset: Dataset,
  index: number,
  opts: { timeZone: string; cycleTimes: string[]; withRateCard?: boolean },
): ReturnType<typeof addProvider> {
  const p = dataset.providers[index];
  if (!p) throw new Error(`the simulator has no provider ${index}`);
  const onboarded = await addProvider(ctx, {
    name: p.name,
    clientId: p.clientId,
    clientSecret: p.clientSecret,
    currency: p.currency,
    timeZone: opts.timeZone,
    cycleTimes: opts.cycleTimes,
  });
  if (opts.withRateCard !== false)
    await importRateCard(ctx.pool, onboarded.provider.id, demoRateCard(dataset, p.currency));
  return onboarded;
}
