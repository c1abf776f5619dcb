/**
 * The quarantine group workflow's messages and the types they carry: its contract, shared by the
 * workflow (quarantine-group.ts), its callers (through quarantine-group.api.ts) and its
 * activities (activities/quarantine.ts). Workflow-safe: no client or Node imports.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { QuarantineAction } from '../core/quarantine-requests';

export type { QuarantineAction };

export interface AdminAction {
  /** Who did it: required for the audit trail. */
  by: string;
  /** At most 2,000 characters (core/admin-text.ts), like a write-off's reason. */
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
   * order is time order): a group keeps the later of two summaries. A sender may leave it out.
   */
  asOf?: string;
}

export interface GroupState {
  summary: GroupSummary | null;
  actions: ActionOutcome[];
  pending: number;
}

/**
 * New lines reached the group: where from and how many. `summary`, when the sender read it (a
 * cycle's fan-out does, for all its groups in one statement, after the lines were stored) spares
 * the group the activity that would read it again: the workflow task that takes the signal
 * schedules nothing. Of two summaries the one read later (`asOf`) wins.
 */
export interface LinesAdded {
  source: string;
  count: number;
  summary?: GroupSummary;
}

export interface QuarantineGroupInput {
  groupKey: string;
  providerId: string;
  reason: string;
  tenantRef: string;
  /** Carried across continue-as-new: the most recent actions (the full trail is in the database). */
  recentActions?: ActionOutcome[];
}

export interface ApplyActionInput {
  groupKey: string;
  providerId: string;
  request: ResolveRequest & { requestId: string };
  /** Set when the workflow already knows the request is invalid: it is recorded, nothing else. */
  rejection: string | null;
}

/** The activities this workflow calls (activities/quarantine.ts implements them). */
export interface QuarantineActivities {
  loadGroupSummary(input: { groupKey: string }): Promise<GroupSummary>;
  applyQuarantineAction(input: ApplyActionInput): Promise<ActionOutcome>;
}

export const linesAddedSignal = defineSignal<[LinesAdded]>('linesAdded');
export const allocateSignal = defineSignal<[AllocateRequest]>('allocate');
export const cleanseSignal = defineSignal<[AdminAction]>('cleanse');
export const writeOffSignal = defineSignal<[WriteOffRequest]>('writeOff');
export const acceptRevisionSignal = defineSignal<[AdminAction]>('acceptRevision');
export const resolveUpdate = defineUpdate<ActionOutcome, [ResolveRequest]>('resolve');
export const groupStateQuery = defineQuery<GroupState>('state');
/** A signal as the Web UI's help lists it: its name, what it does, and an example input. */
export interface SignalHelp {
  name: string;
  does: string;
  example: Record<string, string>;
}

export const signalsQuery = defineQuery<{ signals: readonly SignalHelp[]; queries: string[]; update: string }>(
  'signals',
);
