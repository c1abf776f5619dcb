/**
 * The demo: the carrier simulator as the default carrier (when RHIPE_API_URL is unset), and its
 * first providers onboarded with a rate card, so `npm start` bills something on a fresh machine.
 * workers/system.ts supervises the processes and calls these.
 */
import type { Logger } from 'pino';
import { usesSimulator, type Config } from '../config';
import { startSimulator, type Simulator } from '../carrier/simulator/server';
import { getProvider } from '../db/providers';
import type { ProviderContext } from '../client/providers';
import { onboardSimulatorProvider } from '../client/demo-provider';
import { rootCause } from './root-cause';

export async function startDemoCarrier(cfg: Config, log: Logger): Promise<Simulator | null> {
  if (!usesSimulator(cfg)) return null;
  // A third provider is left for the admin to onboard with `provider add` (the README shows how).
  const simulator = await startSimulator({
    port: cfg.SIMULATOR_PORT,
    usageRecords: cfg.SIMULATOR_RECORDS,
    providers: DEMO_PROVIDERS + 1,
  });
  log.info(
    { carrier: simulator.url, usageLinesPerProvider: cfg.SIMULATOR_RECORDS },
    'carrier simulator running (default carrier)',
  );
  return simulator;
}

/** How many of the simulator's providers the demo onboards itself; the next one is the admin's to try. */
const DEMO_PROVIDERS = 2;

/** The demo's providers: the simulator's, onboarded once (idempotent by client id), with a rate card. */
export async function onboardSimulatorProviders(
  ctx: ProviderContext,
  sim: Simulator,
  cfg: Config,
  log: Logger,
): Promise<void> {
  const yours = sim.dataset.providers[DEMO_PROVIDERS];
  if (yours && !(await getProvider(ctx.pool, yours.clientId))) {
    // Once, while it is not onboarded: how to try onboarding against the simulator.
    log.info(
      {
        tryIt: `RHIPE_CLIENT_SECRET=${yours.clientSecret} npm run csp -- provider add --name "${yours.name}" --client-id ${yours.clientId}`,
        credentials: `${sim.url}/sim/providers`,
      },
      'try onboarding a provider yourself: the simulator has one the demo left for you (its client ids and secrets are listed at /sim/providers)',
    );
  }
  for (const [index, p] of sim.dataset.providers.slice(0, DEMO_PROVIDERS).entries()) {
    if (await getProvider(ctx.pool, p.clientId)) continue;
    const timeZone = p.currency === 'NZD' ? 'Pacific/Auckland' : cfg.DEFAULT_TIME_ZONE;
    try {
      const { provider, onboarding } = await onboardSimulatorProvider(ctx, sim.dataset, index, {
        timeZone,
        cycleTimes: cfg.CYCLE_TIMES,
      });
      log.info(
        { provider: provider.id, name: provider.name, services: onboarding.servicesCreated },
        'demo provider onboarded',
      );
    } catch (err) {
      log.error({ provider: p.name, reason: rootCause(err) }, 'demo provider could not be onboarded; the others go on');
    }
  }
}
