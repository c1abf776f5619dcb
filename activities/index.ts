import type { ActivityDeps } from './deps';
import { usageActivities } from './usage';
import { quarantineActivities } from './quarantine';
import { onboardingActivities } from './onboarding';
import { tenantActivities } from './tenant';
import type { UsageCycleActivities } from '../workflows/usage-cycle';
import type { QuarantineActivities } from '../workflows/quarantine-group';
import type { OnboardingActivities } from '../workflows/onboarding';
import type { TenantActivities } from '../workflows/tenant';

/** Every activity the workflows call: each workflow declares the ones it needs, and this must provide them. */
export type Activities = UsageCycleActivities & QuarantineActivities & OnboardingActivities & TenantActivities;

export function createActivities(deps: ActivityDeps): Activities {
  return {
    ...usageActivities(deps),
    ...quarantineActivities(deps),
    ...onboardingActivities(deps),
    ...tenantActivities(deps),
  };
}
