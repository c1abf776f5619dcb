/**
 * The tenant workflow's messages and the types they carry: its contract, shared by the workflow
 * (tenant.ts), its callers (through tenant.api.ts) and its activities (activities/tenant.ts).
 * Workflow-safe: no client or Node imports.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { LicenceChange, LicenceView } from '../core/licences';
import type { ProductLimits } from '../core/licence-changes';
import type { CreditSummary } from '../core/corrections';

export type { LicenceChange, LicenceView, ProductLimits };

export interface TenantState {
  licences: LicenceView[];
  products: ProductLimits[];
  /** The first day not billed (a future date: billing stops then); null while billed. */
  cancelledOn: string | null;
  goneAtCarrier: boolean;
  lastReconciledAt: string | null;
  /** The last reconcile that failed for good (bad credentials, the carrier down for half an hour), until one succeeds. */
  lastReconcileFailure: { at: string; reason: string } | null;
  outOfBandEvents: number;
  recentChanges: Array<{ changeId: string; kind: string; by: string; at: string }>;
}

export interface TenantInput {
  providerId: string;
  tenantId: string;
  serviceId: string;
  reconcileEveryHours?: number;
  /** The provider's time zone: "today" for a cancellation date is the provider's today (UTC when absent). */
  timeZone?: string;
  /** Carried across continue-as-new. */
  state?: TenantState;
  /** Carried across continue-as-new: an admin asked for a reconcile that had not run yet. */
  reconcileRequested?: boolean;
}

/** Who asks: the name given (free text), and who the system knows it to be (filled by the CLI / console). */
export interface RequestActor {
  by: string;
  /** The operating-system user running the CLI that sent the request. */
  osUser?: string;
  /** The authenticated user of a logged-in client (the web console). */
  principal?: string;
}

export interface OrderRequest extends RequestActor {
  productId: string;
  quantity: number;
  billingCycle?: 'Monthly' | 'Annual';
}
export interface SetQuantityRequest extends RequestActor {
  subscriptionId: string;
  quantity: number;
}
export interface CancelRequest extends RequestActor {
  effectiveDate?: string;
}
export type ReactivateRequest = RequestActor;

/** Who asked for a change, as recorded on licence_change. */
export interface ChangeActor {
  by: string;
  osUser?: string | null;
  principal?: string | null;
}

/** What the carrier shows of a tenant. */
export interface CarrierTenantView {
  gone: boolean;
  licences: LicenceView[];
  products: ProductLimits[];
}

export interface ChangeResult {
  changeId: string;
  kind: LicenceChange['kind'];
  /** Licences the change created or altered, as the carrier reported them. */
  licences: LicenceView[];
  cancelledOn: string | null;
  /** A cancel: the billed lines from its date on that it credited (and returned to quarantine). */
  credited?: CreditSummary;
}

export const orderProductUpdate = defineUpdate<ChangeResult, [OrderRequest]>('orderProduct');
export const setQuantityUpdate = defineUpdate<ChangeResult, [SetQuantityRequest]>('setQuantity');
export const cancelServiceUpdate = defineUpdate<ChangeResult, [CancelRequest]>('cancelService');
export const reactivateServiceUpdate = defineUpdate<ChangeResult, [ReactivateRequest]>('reactivateService');
export const reconcileSignal = defineSignal('reconcile');
export const tenantStateQuery = defineQuery<TenantState>('state');

/** What the Web UI shows on a tenant workflow's page. */
export const TENANT_WORKFLOW_DETAILS =
  "Holds the tenant's licences. Updates: orderProduct, setQuantity, cancelService, reactivateService (validated first). Signal `reconcile` reads the carrier now. Query `state`.";

/** The activities this workflow calls (activities/tenant.ts implements them). */
/** One licence change as the activity sends it: once per changeId. */
export interface LicenceChangeInput {
  providerId: string;
  tenantId: string;
  serviceId: string;
  changeId: string;
  by: string;
  actor?: ChangeActor;
  change: LicenceChange;
}

export interface TenantActivities {
  reconcileTenant(input: {
    providerId: string;
    tenantId: string;
    reconcileId: string;
    known: LicenceView[];
    initial: boolean;
  }): Promise<CarrierTenantView & { events: number }>;
  applyLicenceChange(input: LicenceChangeInput): Promise<ChangeResult>;
  markLicenceChangeFailed(input: { changeId: string; reason: string }): Promise<void>;
}
