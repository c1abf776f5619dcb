import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { localTemporal } from './temporal';
import { startTestSystem, type TestSystem } from './system';
import { cliEnv, runCli } from './cli';
import { runUsageCycleNow } from '../../workflows/usage-cycle.api';
import { previousMonth } from '../../carrier/simulator/dataset';
import type { ProviderView } from '../../db/providers';

/**
 * The system with the simulator's first provider onboarded and one usage cycle run, for CLI tests
 * of a month: `period` is the month before the simulator's current one (its invoice is out).
 */
export interface OneProviderSystem {
  env: TestWorkflowEnvironment;
  sys: TestSystem;
  provider: ProviderView;
  period: string;
  /** The CLI against it, its logs silent. */
  csp(...args: string[]): ReturnType<typeof runCli>;
  stop(): Promise<void>;
}

export async function startOneProviderSystem(opts: {
  usageRecords: number;
  cycleId: string;
  /** Changes to the simulator's world before the provider is onboarded. */
  prepare?: (sys: TestSystem) => void;
}): Promise<OneProviderSystem> {
  const env = await localTemporal();
  const sys = await startTestSystem(env, { usageRecords: opts.usageRecords, pageSize: 100 });
  opts.prepare?.(sys);
  const provider = await sys.onboardSimProvider(0);
  await runUsageCycleNow({ temporal: env.client, taskQueue: sys.taskQueue }, { providerId: provider.id }, opts.cycleId);
  return {
    env,
    sys,
    provider,
    period: previousMonth(sys.sim.dataset.usageMonth),
    csp: (...args) => runCli(args, cliEnv(sys, env, { LOG_LEVEL: 'silent' })),
    async stop() {
      await sys.stop();
      await env.teardown();
    },
  };
}
