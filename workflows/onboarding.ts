import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { CSP_PROVIDER_ID } from './search-attributes';
import type { DiscoveryResult } from './types';

/** The activities this workflow calls (activities/onboarding.ts and activities/tenant.ts implement them). */
export interface OnboardingActivities {
  discoverTenants(input: { providerId: string }): Promise<DiscoveryResult>;
  ensureTenantWorkflows(input: { providerId: string }): Promise<number>;
  ensureProviderSchedule(input: { providerId: string }): Promise<'created' | 'updated' | 'removed'>;
}

const { discoverTenants, ensureTenantWorkflows, ensureProviderSchedule } = proxyActivities<OnboardingActivities>({
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

/**
 * Onboards a provider (and, run again, rediscovers its tenants): one service per tenant at the
 * carrier, one entity workflow per tenant, and the provider's usage schedule.
 */
export async function onboardProviderWorkflow(input: { providerId: string }): Promise<OnboardingResult> {
  upsertSearchAttributes([{ key: CSP_PROVIDER_ID, value: input.providerId }]);
  const discovered = await discoverTenants({ providerId: input.providerId });
  const started = await ensureTenantWorkflows({ providerId: input.providerId });
  const schedule = await ensureProviderSchedule({ providerId: input.providerId });
  return { providerId: input.providerId, ...discovered, tenantWorkflowsStarted: started, schedule };
}
