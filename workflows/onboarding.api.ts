import { onboardProviderWorkflow, type OnboardingResult } from './onboarding';
import { CSP_PROVIDER_ID } from './search-attributes';
import type { WorkflowStarter } from './starter';

/** How a provider's onboarding (or rediscovery of its tenants) is started: run to the end, result awaited. */

export const onboardingWorkflowId = (providerId: string) => `onboarding:${providerId}`;

export async function runOnboarding(t: WorkflowStarter, providerId: string): Promise<OnboardingResult> {
  return t.temporal.workflow.execute(onboardProviderWorkflow, {
    taskQueue: t.taskQueue,
    // Each run its own id: rediscovery can be asked for again after an earlier run finished.
    workflowId: `${onboardingWorkflowId(providerId)}:${Date.now()}`,
    args: [{ providerId }],
    typedSearchAttributes: [{ key: CSP_PROVIDER_ID, value: providerId }],
  });
}
