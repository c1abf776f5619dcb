import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { CSP_PROVIDER_ID } from './search-attributes';
import {
  onboardingProgressQuery,
  type DiscoveryProgress,
  type OnboardingActivities,
  type OnboardingInput,
  type OnboardingProgress,
  type OnboardingResult,
} from './onboarding.messages';

const acts = proxyActivities<OnboardingActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const AGREEMENTS_PER_ACTIVITY = 20;
const TENANT_WORKFLOWS_PER_ACTIVITY = 500;
const HISTORY_EVENTS_BEFORE_CONTINUE_AS_NEW = 1000;

/**
 * Onboards a provider (and, run again, rediscovers its tenants): one service per tenant at the
 * carrier, one entity workflow per tenant, and the provider's usage schedule.
 *
 * Discovery is resumable: the customer list and each contract agreement's tenants are separate
 * activity calls whose progress is kept in the database (per tenant), each carrier request is
 * retried on its own, and a huge provider continues-as-new so history stays bounded.
 */
export async function onboardProviderWorkflow(input: OnboardingInput): Promise<OnboardingResult> {
  upsertSearchAttributes([{ key: CSP_PROVIDER_ID, value: input.providerId }]);
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
        workflowInfo().historyLength > (input.historyLimit ?? HISTORY_EVENTS_BEFORE_CONTINUE_AS_NEW)
      ) {
        return await continueAsNew<typeof onboardProviderWorkflow>({ ...input, discoveryId });
      }
    }
    progress.phase = 'finishing';
    show();
    const discovered = await acts.finishDiscovery({ providerId: input.providerId, discoveryId });
    progress.phase = 'starting tenant workflows';
    show();
    // In steps, so the progress shows how far it got (thousands of tenants take minutes).
    let started = 0;
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
