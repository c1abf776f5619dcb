import {
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  onboardingProgressQuery,
  onboardProviderWorkflow,
  type OnboardingInput,
  type OnboardingProgress,
} from './onboarding';
import { CSP_PROVIDER_ID } from './search-attributes';
import type { WorkflowStarter } from './starter';

/**
 * How a provider's onboarding (or rediscovery of its tenants) is started. One id per provider:
 * starting it while one runs attaches to that one (a second `provider add`, `provider discover`);
 * once it has ended, failed or was terminated, a new run starts and resumes the open discovery.
 */
export const onboardingWorkflowId = (providerId: string) => `onboarding:${providerId}`;

export type OnboardingTuning = Pick<
  OnboardingInput,
  'agreementsPerActivity' | 'historyLimit' | 'tenantWorkflowsPerActivity'
>;

export async function startOnboarding(
  t: WorkflowStarter,
  providerId: string,
  tuning: OnboardingTuning = {},
): Promise<WorkflowHandle<typeof onboardProviderWorkflow>> {
  return t.temporal.workflow.start(onboardProviderWorkflow, {
    taskQueue: t.taskQueue,
    workflowId: onboardingWorkflowId(providerId),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    args: [{ providerId, ...tuning }],
    typedSearchAttributes: [{ key: CSP_PROVIDER_ID, value: providerId }],
    staticSummary: `onboarding of provider ${providerId}`,
  });
}

/** The onboarding workflow's state: its status and, while it runs, its progress (the same the CLI's bar and the Web UI show). */
export async function onboardingState(
  client: Client,
  providerId: string,
): Promise<{ status: string; progress: OnboardingProgress | null } | null> {
  const handle = client.workflow.getHandle<typeof onboardProviderWorkflow>(onboardingWorkflowId(providerId));
  try {
    const status = (await handle.describe()).status.name;
    return { status, progress: status === 'RUNNING' ? await handle.query(onboardingProgressQuery) : null };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}
