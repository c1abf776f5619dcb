/** Types shared by workflows, activities and clients. Nothing here may import runtime code. */
import type { LicenceChange, LicenceView } from '../core/licences';
import type { UsageWindow } from '../core/usage-window';
import type { CreditSummary } from '../core/corrections';

export type { LicenceChange, LicenceView, UsageWindow };

export interface CycleSummary {
  cycleId: string;
  providerId: string;
  window: UsageWindow;
  fetched: number;
  billed: number;
  quarantined: number;
  quarantinedByReason: Record<string, number>;
  duplicatesSkipped: number;
  cost: string;
  charge: string;
  margin: string;
}

export type QuarantineAction = 'allocate' | 'cleanse' | 'writeOff' | 'acceptRevision';

export interface AdminAction {
  /** Who did it: required for the audit trail. */
  by: string;
  note?: string;
  /** Makes a re-sent request act once (within this group); the CLI sets it, the workflow supplies one otherwise. */
  requestId?: string;
  /** The operating-system user of the CLI that sent it (the CLI fills it; `by` is free text). */
  osUser?: string;
  /** The authenticated user of a logged-in client such as the web console. */
  principal?: string;
}

export interface AllocateRequest extends AdminAction {
  serviceId: string;
}

export interface WriteOffRequest extends AdminAction {
  reason: string;
}

export type ResolveRequest =
  | ({ action: 'allocate' } & AllocateRequest)
  | ({ action: 'cleanse' } & AdminAction)
  | ({ action: 'writeOff' } & WriteOffRequest)
  /** DUPLICATE_USAGE lines: credit the version billed before, charge the revision. */
  | ({ action: 'acceptRevision' } & AdminAction);

export interface ActionOutcome {
  requestId: string;
  action: QuarantineAction;
  by: string;
  outcome: 'APPLIED' | 'REJECTED';
  rejection: string | null;
  lines: number;
  billed: number;
  requarantined: number;
  writtenOff: number;
  amount: string;
  at: string;
}

export interface GroupSummary {
  groupKey: string;
  providerId: string;
  reason: string;
  tenantRef: string;
  lines: number;
  carrierCharge: string;
  periodFrom: string | null;
  periodTo: string | null;
  /** For people (the Web UI's current details): customer, amount with currency, suggested service. */
  details?: string;
  /**
   * When the database read these figures (its statement's start, UTC, fixed width so that text
   * order is time order): a group keeps the later of two summaries. Absent in summaries read
   * before it was added.
   */
  asOf?: string;
}

export interface GroupState {
  summary: GroupSummary | null;
  actions: ActionOutcome[];
  pending: number;
}

/** When a provider's monthly invoice reconciliation runs. */
export interface ReconciliationTiming {
  /** Day of the month (1-28), once the carrier's invoice is expected. */
  dayOfMonth: number;
  /** HH:MM in the provider's time zone. */
  time: string;
}

export interface ProductLimits {
  productId: string;
  name: string;
  minQty: number;
  maxQty: number;
}

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

export interface ApplyActionInput {
  groupKey: string;
  providerId: string;
  request: ResolveRequest & { requestId: string };
  /** Set when the workflow already knows the request is invalid: it is recorded, nothing else. */
  rejection: string | null;
}

/** What one fetchUsage call did: pages and lines stored, and the outcomes of the lines it mediated page by page. */
export interface FetchResult {
  pages: number;
  lines: number;
  inserted: number;
  exhausted: boolean;
  /** Absent in results recorded before fetch reported mediation. */
  mediated?: number;
  billed?: number;
  quarantined?: number;
}

/** One step of starting a provider's tenant workflows (onboarding): services reached so far, of all. */
export interface TenantWorkflowsStep {
  started: number;
  done: number;
  total: number;
  /** The last service id of this step when more follow, else null. */
  next: string | null;
}
