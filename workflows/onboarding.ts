import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { OnboardingActivities } from '../activities/onboarding';
import type { TenantActivities } from '../activities/tenant';
import { CSP_PROVIDER_ID } from './search-attributes';

/**
 * Onboards a provider (and, run again, rediscovers its tenants): one service per tenant at the
 * carrier, one entity workflow per tenant, and the provider's usage schedule.
 */
const acts = proxyActivities<OnboardingActivities & TenantActivities>({
  startToCloseTimeout: '5 minutes',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export interface OnboardingResult {
  providerId: string;
  tenants: number;
  createdServices: string[];
  flaggedGone: string[];
  tenantWorkflowsStarted: number;
  schedule: string;
}

export async function onboardProviderWorkflow(input: { providerId: string }): Promise<OnboardingResult> {
  upsertSearchAttributes([{ key: CSP_PROVIDER_ID, value: input.providerId }]);
  const discovered = await acts.discoverTenants({ providerId: input.providerId });
  const started = await acts.ensureTenantWorkflows({ providerId: input.providerId });
  const schedule = await acts.ensureProviderSchedule({ providerId: input.providerId });
  return { providerId: input.providerId, ...discovered, tenantWorkflowsStarted: started, schedule };
}
