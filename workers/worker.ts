import {
  DefaultLogger,
  NativeConnection,
  Worker,
  bundleWorkflowCode,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { createActivities } from '../activities';
import type { ActivityDeps } from '../activities/deps';

export const WORKFLOWS_PATH = require.resolve('../workflows');

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per process (workflows only: no pg, pino, zod or decimal.js in it). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: new DefaultLogger('WARN'),
  });
  return bundle;
}

/** `prebuiltBundle` (WORKFLOW_BUNDLE, made by workers/bundle.ts): no webpack in the worker process. */
export async function createWorker(
  connection: NativeConnection,
  namespace: string,
  deps: ActivityDeps,
  prebuiltBundle?: string,
): Promise<Worker> {
  return Worker.create({
    connection,
    namespace,
    taskQueue: deps.taskQueue,
    workflowBundle: prebuiltBundle ? { codePath: prebuiltBundle } : await workflowBundle(),
    activities: createActivities(deps),
    // Two cores: a handful of concurrent activities keeps both busy without starving PostgreSQL.
    maxConcurrentActivityTaskExecutions: 8,
    maxConcurrentWorkflowTaskExecutions: 20,
    // Give running activities time to finish their current page or batch on SIGTERM.
    shutdownGraceTime: '20 seconds',
  });
}
