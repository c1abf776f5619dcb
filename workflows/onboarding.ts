import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { CSP_PROVIDER_ID } from './search-attributes';
import type { DiscoveryProgress, DiscoveryResult, DiscoveryStep, TenantWorkflowsStep } from './types';

/**
 * Onboards a provider (and, run again, rediscovers its tenants): one service per tenant at the
 * carrier, one entity workflow per tenant, and the provider's usage schedule.
 *
 * Discovery is resumable: the customer list and each contract agreement's tenants are separate
 * activity calls whose progress is kept in the database (per tenant), each carrier request is
 * retried on its own, and a huge provider continues-as-new so history stays bounded.
 */
/** The activities this workflow calls (activities/onboarding.ts and activities/tenant.ts implement them). */
export interface OnboardingActivities {
  beginDiscovery(input: { providerId: string }): Promise<{ discoveryId: string }>;
  listDiscoveryCustomers(input: { providerId: string; discoveryId: string }): Promise<DiscoveryProgress>;
  discoverAgreements(input: {
    providerId: string;
    discoveryId: string;
    maxAgreements: number;
    maxSingleTenants?: number;
  }): Promise<DiscoveryStep>;
  finishDiscovery(input: { providerId: string; discoveryId: string }): Promise<DiscoveryResult>;
  failDiscovery(input: { discoveryId: string; reason: string }): Promise<void>;
  markProviderOnboarded(input: { providerId: string }): Promise<void>;
  /** The whole discovery in one call: onboardings started before discovery became resumable. */
  discoverTenants(input: { providerId: string }): Promise<DiscoveryResult>;
  ensureTenantWorkflows(input: { providerId: string }): Promise<number>;
  ensureTenantWorkflowsStep(input: { providerId: string; after?: string; max: number }): Promise<TenantWorkflowsStep>;
  ensureProviderSchedule(input: { providerId: string }): Promise<'created' | 'updated' | 'removed'>;
}

const acts = proxyActivities<OnboardingActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export interface OnboardingResult {
  providerId: string;
  discoveryId?: string;
  tenants: number;
  servicesCreated: number;
  flaggedGone: number;
  tenantWorkflowsStarted: number;
  schedule: string;
}

export interface OnboardingProgress {
  phase: 'listing customers' | 'reading tenants' | 'finishing' | 'starting tenant workflows' | 'completed' | 'failed';
  tenants: number;
  tenantsDone: number;
  agreements: number;
  agreementsDone: number;
  servicesCreated: number;
  /** Tenant workflows ensured so far, of all the provider's services (once that phase has begun). */
  tenantWorkflows?: { done: number; total: number };
  error?: string;
}

export const onboardingProgressQuery = defineQuery<OnboardingProgress>('progress');

export interface OnboardingInput {
  providerId: string;
  /** Set when continuing as new: the discovery under way. */
  discoveryId?: string;
  /** Contract agreements read per activity call (default 20). */
  agreementsPerActivity?: number;
  /** History events after which the workflow continues as new (default 1,000). */
  historyLimit?: number;
  /** Tenant workflows started per activity call (default 500). */
  tenantWorkflowsPerActivity?: number;
}

const AGREEMENTS_PER_ACTIVITY = 20;
const TENANT_WORKFLOWS_PER_ACTIVITY = 500;
const HISTORY_LIMIT = 1000;

export async function onboardProviderWorkflow(input: OnboardingInput): Promise<OnboardingResult> {
  upsertSearchAttributes([{ key: CSP_PROVIDER_ID, value: input.providerId }]);
  if (!patched('resumable-discovery')) return legacyOnboarding(input);

  const progress: OnboardingProgress = {
    phase: 'listing customers',
    tenants: 0,
    tenantsDone: 0,
    agreements: 0,
    agreementsDone: 0,
    servicesCreated: 0,
  };
  setHandler(onboardingProgressQuery, () => progress);
  const show = (p?: DiscoveryProgress) => {
    if (p)
      Object.assign(progress, {
        tenants: p.tenants,
        tenantsDone: p.tenantsDone,
        agreements: p.agreements,
        agreementsDone: p.agreementsDone,
        servicesCreated: p.servicesCreated,
      });
    // Shown as "Current details" in the Web UI.
    const workflows = progress.tenantWorkflows
      ? `, ${progress.tenantWorkflows.done}/${progress.tenantWorkflows.total} tenant workflows`
      : '';
    setCurrentDetails(
      `**${progress.phase}**: ${progress.tenantsDone}/${progress.tenants} tenants, ${progress.agreementsDone}/${progress.agreements} contract agreements, ${progress.servicesCreated} services created${workflows}${progress.error ? `\n\nfailed: ${progress.error}` : ''}`,
    );
  };
  show();
  const discoveryId = input.discoveryId ?? (await acts.beginDiscovery({ providerId: input.providerId })).discoveryId;
  try {
    show(await acts.listDiscoveryCustomers({ providerId: input.providerId, discoveryId }));
    progress.phase = 'reading tenants';
    show();
    for (;;) {
      const step = await acts.discoverAgreements({
        providerId: input.providerId,
        discoveryId,
        maxAgreements: input.agreementsPerActivity ?? AGREEMENTS_PER_ACTIVITY,
      });
      show(step.progress);
      if (step.done) break;
      if (
        workflowInfo().continueAsNewSuggested ||
        workflowInfo().historyLength > (input.historyLimit ?? HISTORY_LIMIT)
      ) {
        return await continueAsNew<typeof onboardProviderWorkflow>({ ...input, discoveryId });
      }
    }
    progress.phase = 'finishing';
    show();
    const discovered = await acts.finishDiscovery({ providerId: input.providerId, discoveryId });
    progress.phase = 'starting tenant workflows';
    show();
    let started = 0;
    if (patched('tenant-workflows-in-steps')) {
      // In steps, so the progress shows how far it got (thousands of tenants take minutes).
      for (let after: string | undefined; ;) {
        const step = await acts.ensureTenantWorkflowsStep({
          providerId: input.providerId,
          after,
          max: input.tenantWorkflowsPerActivity ?? TENANT_WORKFLOWS_PER_ACTIVITY,
        });
        started += step.started;
        progress.tenantWorkflows = { done: step.done, total: step.total };
        show();
        if (step.next === null) break;
        after = step.next;
      }
    } else {
      started = await acts.ensureTenantWorkflows({ providerId: input.providerId });
    }
    const schedule = await acts.ensureProviderSchedule({ providerId: input.providerId });
    await acts.markProviderOnboarded({ providerId: input.providerId });
    progress.phase = 'completed';
    show();
    return { providerId: input.providerId, ...discovered, tenantWorkflowsStarted: started, schedule };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const cause = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
    progress.phase = 'failed';
    progress.error = cause?.message ?? (err as Error).message;
    show();
    await acts.failDiscovery({ discoveryId, reason: progress.error });
    throw err;
  }
}

/** The one-activity discovery of onboardings started before it became resumable (replay only). */
async function legacyOnboarding(input: OnboardingInput): Promise<OnboardingResult> {
  const discovered = await acts.discoverTenants({ providerId: input.providerId });
  const started = await acts.ensureTenantWorkflows({ providerId: input.providerId });
  const schedule = await acts.ensureProviderSchedule({ providerId: input.providerId });
  return { providerId: input.providerId, ...discovered, tenantWorkflowsStarted: started, schedule };
}
