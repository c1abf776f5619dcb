import {
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { onboardProviderWorkflow } from './onboarding';
import { onboardingProgressQuery, type OnboardingInput, type OnboardingProgress } from './onboarding.messages';
import { CSP_PROVIDER_ID } from './search-attributes';
import type { WorkflowStarter } from './starter';

/**
 * The onboarding workflow's contract: its messages and types, its id, and the operations callers
 * use. How a provider's onboarding (or rediscovery of its tenants) is started. One id per provider:
 * starting it while one runs attaches to that one (a second `provider add`, `provider discover`);
 * once it has ended, failed or was terminated, a new run starts and resumes the open discovery.
 */
export * from './onboarding.messages';

export type OnboardingHandle = WorkflowHandle<typeof onboardProviderWorkflow>;

export const onboardingWorkflowId = (providerId: string) => `onboarding:${providerId}`;

export type OnboardingTuning = Pick<
  OnboardingInput,
  'agreementsPerActivity' | 'historyLimit' | 'tenantWorkflowsPerActivity'
>;

export async function startOnboarding(
  t: WorkflowStarter,
  providerId: string,
  tuning: OnboardingTuning = {},
): Promise<OnboardingHandle> {
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
  const handle = onboardingHandle(client, providerId);
  try {
    const status = (await handle.describe()).status.name;
    return { status, progress: status === 'RUNNING' ? await handle.query(onboardingProgressQuery) : null };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

export function onboardingHandle(client: Client, providerId: string): OnboardingHandle {
  return client.workflow.getHandle<typeof onboardProviderWorkflow>(onboardingWorkflowId(providerId));
}

/** How far a running onboarding got (the progress bar's figures). */
export async function onboardingProgress(handle: OnboardingHandle): Promise<OnboardingProgress> {
  return handle.query(onboardingProgressQuery);
}

/** What the Web UI shows as the onboarding's "Current details". */
export async function onboardingCurrentDetails(client: Client, providerId: string): Promise<string | undefined> {
  const meta = await onboardingHandle(client, providerId).query<{ currentDetails?: string }>(
    '__temporal_workflow_metadata',
  );
  return meta.currentDetails;
}
