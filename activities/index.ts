import type { ActivityDeps } from './deps';
import { usageActivities } from './usage';
import { quarantineActivities } from './quarantine';
import { onboardingActivities } from './onboarding';
import { tenantActivities } from './tenant';

export function createActivities(deps: ActivityDeps) {
  return {
    ...usageActivities(deps),
    ...quarantineActivities(deps),
    ...onboardingActivities(deps),
    ...tenantActivities(deps),
  };
}

export type UsageActivities = ReturnType<typeof usageActivities>;
export type Activities = ReturnType<typeof createActivities>;
