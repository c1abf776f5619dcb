import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  isCancellation,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  patched,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { CarrierTenantView, ChangeResult, LicenceChange, LicenceView, ProductLimits } from './types';
import { requirePlainDate } from '../core/iso-date';

export interface TenantState {
  licences: LicenceView[];
  products: ProductLimits[];
  cancelledOn: string | null;
  goneAtCarrier: boolean;
  lastReconciledAt: string | null;
  /** The last reconcile that failed for good (bad credentials, the carrier down for half an hour), until one succeeds. */
  lastReconcileFailure?: { at: string; reason: string } | null;
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

export const orderProductUpdate = defineUpdate<ChangeResult, [OrderRequest]>('orderProduct');
export const setQuantityUpdate = defineUpdate<ChangeResult, [SetQuantityRequest]>('setQuantity');
export const cancelServiceUpdate = defineUpdate<ChangeResult, [CancelRequest]>('cancelService');
export const reactivateServiceUpdate = defineUpdate<ChangeResult, [ReactivateRequest]>('reactivateService');
export const reconcileSignal = defineSignal('reconcile');
export const tenantStateQuery = defineQuery<TenantState>('licences');

/** The activities this workflow calls (activities/tenant.ts implements them). */
export interface TenantActivities {
  reconcileTenant(input: {
    providerId: string;
    tenantId: string;
    reconcileId: string;
    known: LicenceView[];
    initial: boolean;
  }): Promise<CarrierTenantView & { events: number }>;
  applyLicenceChange(input: {
    providerId: string;
    tenantId: string;
    serviceId: string;
    changeId: string;
    by: string;
    actor?: ChangeActor;
    change: LicenceChange;
  }): Promise<ChangeResult>;
  markLicenceChangeFailed(input: { changeId: string; reason: string }): Promise<void>;
}

/** Who asked for a change, as recorded on licence_change. */
export interface ChangeActor {
  by: string;
  osUser?: string | null;
  principal?: string | null;
}

const { reconcileTenant, applyLicenceChange, markLicenceChangeFailed } = proxyActivities<TenantActivities>({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const HISTORY_LIMIT = 1000;

/** Patch id: Updates under way finish before the workflow continues as new. */
export const HANDLERS_FINISH_BEFORE_CONTINUE = 'handlers-finish-before-continue-as-new';
/** Patch id: a reconcile that fails for good is recorded and tried again; the tenant's workflow goes on. */
export const RECONCILE_FAILURE_KEPT = 'tenant-reconcile-failure-kept';
/** Patch id: a change is checked again when its turn comes, against the changes that ran before it. */
export const CHANGE_CHECKED_WHEN_RUN = 'tenant-change-checked-when-run';

/** After a failed reconcile, the next try comes this soon (or at the usual interval, if sooner). */
const RECONCILE_RETRY_MS = 3600_000;

/**
 * One end customer's Microsoft tenant, as a long-lived entity: it holds the tenant's licences,
 * takes changes through validated Updates (rejected with a reason before anything is sent),
 * and reconciles with the carrier daily and on demand, recording what changed elsewhere.
 */
export async function tenantWorkflow(input: TenantInput): Promise<void> {
  const state: TenantState = input.state ?? {
    licences: [],
    products: [],
    cancelledOn: null,
    goneAtCarrier: false,
    lastReconciledAt: null,
    outOfBandEvents: 0,
    recentChanges: [],
  };
  const everyMs = (input.reconcileEveryHours ?? 24) * 3600_000;
  // Asked for and not yet done: carried across continue-as-new, so a request is never dropped.
  let reconcileRequested = input.reconcileRequested ?? state.lastReconciledAt === null;
  // Set while the run waits for changes under way before it continues as new: new ones are refused
  // meanwhile (a refused Update leaves no history), so a stream of them cannot hold it off.
  let continuing = false;
  const requireNotContinuing = () => {
    if (continuing) throw new Error('the tenant workflow is continuing as new: send the change again in a few seconds');
  };
  // Changes run one at a time, in the order they were accepted.
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work);
    tail = run.catch(() => undefined);
    return run;
  };

  const requireBy = (by: unknown) => {
    if (typeof by !== 'string' || by.trim() === '') throw new Error('by (the admin making the change) is required');
  };
  // The provider's calendar date now (workflow time, so replay sees the same day).
  const today = (): string => {
    try {
      return new Intl.DateTimeFormat('en-CA', {
        timeZone: input.timeZone ?? 'UTC',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
      }).format(new Date());
    } catch {
      return new Date().toISOString().slice(0, 10);
    }
  };
  // A cancellation dated in the future leaves the service active until that day.
  const requireActive = () => {
    if (state.cancelledOn && state.cancelledOn <= today())
      throw new Error(`the service was cancelled on ${state.cancelledOn}: no licence changes`);
  };
  const limitsOf = (productId: string) => state.products.find((p) => p.productId === String(productId).toLowerCase());
  const refusalOf = (check: () => void): string | undefined => {
    try {
      check();
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };
  const checkQuantity = (q: unknown, p: ProductLimits) => {
    if (typeof q !== 'number' || !Number.isInteger(q)) throw new Error('quantity must be a whole number');
    if (q < p.minQty || q > p.maxQty)
      throw new Error(`quantity for ${p.name} must be between ${p.minQty} and ${p.maxQty} (price list); got ${q}`);
  };

  // `check` is the Update's validator: it ran when the change was accepted, against the state then;
  // changes accepted before it may have run since (a cancel, another cancel), so it runs again.
  const change = (req: RequestActor, c: LicenceChange, check: () => void) =>
    serial(async () => {
      const refusal = refusalOf(check);
      if (refusal !== undefined && patched(CHANGE_CHECKED_WHEN_RUN)) {
        throw ApplicationFailure.create({
          type: 'CHANGE_REFUSED',
          message: `${refusal} (after the changes accepted before this one ran)`,
          nonRetryable: true,
        });
      }
      // The quantity before, as it is when the change runs (a change queued before it may have moved it).
      if (c.kind === 'setQuantity') {
        const subscriptionId = c.subscriptionId;
        c = { ...c, oldQuantity: state.licences.find((x) => x.subscriptionId === subscriptionId)?.quantity };
      }
      const by = req.by;
      const changeId = uuid4();
      const actor = { by, osUser: req.osUser ?? null, principal: req.principal ?? null };
      let result: ChangeResult;
      try {
        result = await applyLicenceChange({
          providerId: input.providerId,
          tenantId: input.tenantId,
          serviceId: input.serviceId,
          changeId,
          by,
          actor,
          change: c,
        });
      } catch (err) {
        // Retries ran out: the change is closed as FAILED with why, and the next one in line runs.
        if (patched('licence-change-failed-recorded')) {
          const cause = (err as { cause?: Error }).cause;
          await markLicenceChangeFailed({ changeId, reason: cause?.message ?? (err as Error).message });
        }
        throw err;
      }
      for (const l of result.licences) {
        const i = state.licences.findIndex((x) => x.subscriptionId === l.subscriptionId);
        if (i >= 0) state.licences[i] = l;
        else state.licences.push(l);
      }
      if (c.kind === 'cancelService') state.cancelledOn = result.cancelledOn;
      if (c.kind === 'reactivateService') state.cancelledOn = null;
      state.recentChanges.push({ changeId: result.changeId, kind: c.kind, by, at: new Date().toISOString() });
      if (state.recentChanges.length > 20) state.recentChanges.shift();
      return result;
    });

  setHandler(tenantStateQuery, () => state);
  setHandler(reconcileSignal, () => {
    reconcileRequested = true;
  });
  // What each change requires of the tenant's state: checked when it is accepted and when it runs.
  const checkOrder = (req: OrderRequest) => {
    requireBy(req?.by);
    requireActive();
    const p = limitsOf(req.productId);
    if (!p) throw new Error(`unknown product ${req.productId}: not in the provider's price list`);
    checkQuantity(req.quantity, p);
    if (req.billingCycle !== undefined && !['Monthly', 'Annual'].includes(req.billingCycle))
      throw new Error('billingCycle must be Monthly or Annual');
  };
  const checkSetQuantity = (req: SetQuantityRequest) => {
    requireBy(req?.by);
    requireActive();
    const l = state.licences.find((x) => x.subscriptionId === String(req.subscriptionId).toLowerCase());
    if (!l) throw new Error(`subscription ${req.subscriptionId} is not a licence of this tenant`);
    const p = limitsOf(l.productId) ?? {
      productId: l.productId,
      name: l.productName ?? l.productId,
      minQty: 1,
      maxQty: 10_000,
    };
    checkQuantity(req.quantity, p);
    if (req.quantity === l.quantity)
      throw new Error(`subscription ${req.subscriptionId} already has quantity ${l.quantity}`);
  };
  const checkCancel = (req: CancelRequest) => {
    requireBy(req?.by);
    if (state.cancelledOn) {
      throw new Error(
        state.cancelledOn <= today()
          ? `the service is already cancelled: billing stopped from ${state.cancelledOn}`
          : `the service is already being cancelled: billing stops from ${state.cancelledOn} (reactivate first to change the date)`,
      );
    }
    if (req.effectiveDate !== undefined) requirePlainDate(req.effectiveDate, 'effectiveDate');
  };
  const checkReactivate = (req: ReactivateRequest) => {
    requireBy(req?.by);
    if (!state.cancelledOn) throw new Error('the service is not cancelled');
  };

  // Every change's validator: refused while the run continues as new, then the change's own check.
  const validatedBy = <R>(check: (req: R) => void) => ({
    validator: (req: R) => {
      requireNotContinuing();
      check(req);
    },
  });
  setHandler(
    orderProductUpdate,
    (req) =>
      change(
        req,
        {
          kind: 'order',
          productId: req.productId.toLowerCase(),
          quantity: req.quantity,
          billingCycle: req.billingCycle ?? 'Monthly',
        },
        () => checkOrder(req),
      ),
    validatedBy(checkOrder),
  );
  // Its quantity before is taken when it runs (change()).
  setHandler(
    setQuantityUpdate,
    (req) =>
      change(
        req,
        { kind: 'setQuantity', subscriptionId: req.subscriptionId.toLowerCase(), quantity: req.quantity },
        () => checkSetQuantity(req),
      ),
    validatedBy(checkSetQuantity),
  );
  setHandler(
    cancelServiceUpdate,
    (req) =>
      change(req, { kind: 'cancelService', effectiveDate: req.effectiveDate ?? today() }, () => checkCancel(req)),
    validatedBy(checkCancel),
  );
  setHandler(
    reactivateServiceUpdate,
    (req) => change(req, { kind: 'reactivateService' }, () => checkReactivate(req)),
    validatedBy(checkReactivate),
  );

  // A failure carried across continue-as-new keeps its earlier retry.
  let nextReconcileMs = state.lastReconcileFailure ? Math.min(everyMs, RECONCILE_RETRY_MS) : everyMs;
  for (;;) {
    // Wakes on an admin's reconcile signal, or when the interval has passed.
    await condition(() => reconcileRequested, nextReconcileMs);
    reconcileRequested = false;
    nextReconcileMs = everyMs;
    try {
      await serial(async () => {
        const r = await reconcileTenant({
          providerId: input.providerId,
          tenantId: input.tenantId,
          reconcileId: uuid4(),
          known: state.licences,
          initial: state.lastReconciledAt === null,
        });
        state.goneAtCarrier = r.gone;
        if (!r.gone) state.licences = r.licences;
        if (r.products.length > 0) state.products = r.products;
        state.outOfBandEvents += r.events;
        state.lastReconciledAt = new Date().toISOString();
        if (state.lastReconcileFailure) state.lastReconcileFailure = null;
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      // Failed for good (credentials rotated, the carrier down past the activity's 30 minutes): the
      // tenant stays an entity that takes changes; the failure shows in its state and the next
      // try comes within the hour. Histories from before failed the workflow here.
      if (!patched(RECONCILE_FAILURE_KEPT)) throw err;
      const cause = (err as { cause?: Error }).cause;
      state.lastReconcileFailure = { at: new Date().toISOString(), reason: cause?.message ?? (err as Error).message };
      nextReconcileMs = Math.min(everyMs, RECONCILE_RETRY_MS);
    }
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_LIMIT) {
      // A change accepted meanwhile finishes here first (its activity, its answer, its state), or
      // continuing as new would cut its Update off. Histories from before went on at once.
      if (!allHandlersFinished() && patched(HANDLERS_FINISH_BEFORE_CONTINUE)) {
        continuing = true;
        await condition(allHandlersFinished);
      }
      await continueAsNew<typeof tenantWorkflow>({
        ...input,
        state,
        reconcileRequested: reconcileRequested || undefined,
      });
    }
  }
}
