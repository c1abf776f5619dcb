/**
 * The onboarding workflow's messages and the types they carry: its contract, shared by the
 * workflow (onboarding.ts), its callers (through onboarding.api.ts) and its activities
 * (activities/onboarding.ts, activities/tenant.ts). Workflow-safe: no client or Node imports.
 */
import { defineQuery } from '@temporalio/workflow';

export interface DiscoveryResult {
  discoveryId: string;
  tenants: number;
  servicesCreated: number;
  flaggedGone: number;
}

/** A discovery's progress as kept in the database (db/discovery.ts), shown by `provider show`. */
export interface DiscoveryProgress {
  discoveryId: string;
  providerId: string;
  status: 'RUNNING' | 'COMPLETED' | 'FAILED';
  customersListed: boolean;
  tenants: number;
  tenantsDone: number;
  agreements: number;
  agreementsDone: number;
  servicesCreated: number;
  flaggedGone: number;
  error: string | null;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface DiscoveryStep {
  tenantsDone: number;
  servicesCreated: number;
  /** Nothing left to read. */
  done: boolean;
  progress: DiscoveryProgress;
}

/** One step of starting a provider's tenant workflows: services reached so far, of all. */
export interface TenantWorkflowsStep {
  started: number;
  done: number;
  total: number;
  /** The last service id of this step when more follow, else null. */
  next: string | null;
}

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
  ensureTenantWorkflowsStep(input: { providerId: string; after?: string; max: number }): Promise<TenantWorkflowsStep>;
  ensureProviderSchedule(input: { providerId: string }): Promise<'created' | 'updated' | 'removed'>;
}

export interface OnboardingResult {
  providerId: string;
  discoveryId: string;
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
