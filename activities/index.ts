import type { ActivityDeps } from './deps';
import { usageActivities } from './usage';
import { quarantineActivities } from './quarantine';
import { onboardingActivities } from './onboarding';
import { tenantActivities } from './tenant';
import { alertingActivities } from './alerting';
import { observeActivities } from './observed';
import type { UsageCycleActivities } from '../workflows/usage-cycle.api';
import type { QuarantineActivities } from '../workflows/quarantine-group.api';
import type { OnboardingActivities } from '../workflows/onboarding.api';
import type { TenantActivities } from '../workflows/tenant.api';
import type { AlertingActivities } from '../workflows/alerting.api';
import type { InvoiceReconciliationActivities } from '../workflows/invoice-reconciliation.api';
import { invoiceActivities } from './invoices';
import { rerateActivities } from './rerate';
import type { RerateActivities } from '../workflows/rerate.api';

/** Every activity the workflows call: each workflow declares the ones it needs, and this must provide them. */
export type Activities = UsageCycleActivities &
  QuarantineActivities &
  OnboardingActivities &
  TenantActivities &
  AlertingActivities &
  InvoiceReconciliationActivities &
  RerateActivities;

export function createActivities(deps: ActivityDeps): Activities {
  const activities: Activities = {
    ...usageActivities(deps),
    ...quarantineActivities(deps),
    ...onboardingActivities(deps),
    ...tenantActivities(deps),
    ...alertingActivities(deps),
    ...invoiceActivities(deps),
    ...rerateActivities(deps),
  };
  // Metrics, quarantine snapshots and failed licence changes, recorded around the activities.
  return observeActivities(deps, activities);
}
