import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import {
  cancelProblem,
  calendarDate,
  orderProblem,
  reactivateProblem,
  setQuantityProblem,
} from '../core/licence-changes';
import { OneAtATime } from '../core/one-at-a-time';
import { TenantEntityState, failureReason } from './tenant-state';
import {
  cancelServiceUpdate,
  orderProductUpdate,
  reactivateServiceUpdate,
  reconcileSignal,
  setQuantityUpdate,
  tenantStateQuery,
  type ChangeResult,
  type LicenceChange,
  type RequestActor,
  type TenantActivities,
  type TenantInput,
} from './tenant.messages';

const { reconcileTenant, applyLicenceChange, markLicenceChangeFailed } = proxyActivities<TenantActivities>({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const HISTORY_EVENTS_BEFORE_CONTINUE_AS_NEW = 1000;
const DEFAULT_RECONCILE_EVERY_HOURS = 24;
/** After a failed reconcile, the next try comes this soon (or at the usual interval, if sooner). */
const RECONCILE_RETRY_MS = 3600_000;

/**
 * One end customer's Microsoft tenant, as a long-lived entity: it holds the tenant's licences,
 * takes changes through validated Updates (rejected with a reason before anything is sent),
 * and reconciles with the carrier daily and on demand, recording what changed elsewhere.
 */
export async function tenantWorkflow(input: TenantInput): Promise<void> {
  const tenant = new TenantEntityState(input.state);
  const { state } = tenant;
  const everyMs = (input.reconcileEveryHours ?? DEFAULT_RECONCILE_EVERY_HOURS) * 3600_000;
  // The provider's calendar date now (workflow time, so replay sees the same day).
  const today = () => calendarDate(new Date(), input.timeZone);
  // Changes and reconciles run one at a time, in the order they were accepted.
  const inTurn = new OneAtATime();
  // Asked for and not yet done: carried across continue-as-new, so a request is never dropped.
  let reconcileRequested = input.reconcileRequested ?? tenant.neverReconciled;
  // Set while the run waits for changes under way before it continues as new: new ones are refused
  // meanwhile (a refused Update leaves no history), so a stream of them cannot hold it off.
  let continuingAsNew = false;

  setHandler(tenantStateQuery, () => state);
  setHandler(reconcileSignal, () => {
    reconcileRequested = true;
  });

  /** The change's problem is checked when it is accepted and again when its turn comes. */
  const handleChange = <R extends RequestActor>(
    update: UpdateDefinition<ChangeResult, [R]>,
    problemOf: (req: R) => string | null,
    changeOf: (req: R) => LicenceChange,
  ) =>
    setHandler(update, (req) => applyInTurn(req, changeOf(req), () => problemOf(req)), {
      validator: (req: R) => {
        if (continuingAsNew)
          throw new Error('the tenant workflow is continuing as new: send the change again in a few seconds');
        const problem = problemOf(req);
        if (problem !== null) throw new Error(problem);
      },
    });

  const applyInTurn = (req: RequestActor, change: LicenceChange, problemNow: () => string | null) =>
    inTurn.run(async () => {
      // Changes accepted before this one may have run since (a cancel, another cancel).
      const problem = problemNow();
      if (problem !== null) {
        throw ApplicationFailure.create({
          type: 'CHANGE_REFUSED',
          message: `${problem} (after the changes accepted before this one ran)`,
          nonRetryable: true,
        });
      }
      // The event's old quantity is the one when the change runs (a change before it may have moved it).
      if (change.kind === 'setQuantity') change = { ...change, oldQuantity: tenant.quantityOf(change.subscriptionId) };
      const changeId = uuid4();
      let result: ChangeResult;
      try {
        result = await applyLicenceChange({
          providerId: input.providerId,
          tenantId: input.tenantId,
          serviceId: input.serviceId,
          changeId,
          by: req.by,
          actor: { by: req.by, osUser: req.osUser ?? null, principal: req.principal ?? null },
          change,
        });
      } catch (err) {
        // Retries ran out: the change is closed as FAILED with why, and the next one in line runs.
        await markLicenceChangeFailed({ changeId, reason: failureReason(err) });
        throw err;
      }
      tenant.recordChange(change, result, req.by, new Date().toISOString());
      return result;
    });

  handleChange(
    orderProductUpdate,
    (req) => orderProblem(state, req, today()),
    (req) => ({
      kind: 'order',
      productId: req.productId.toLowerCase(),
      quantity: req.quantity,
      billingCycle: req.billingCycle ?? 'Monthly',
    }),
  );
  handleChange(
    setQuantityUpdate,
    (req) => setQuantityProblem(state, req, today()),
    (req) => ({ kind: 'setQuantity', subscriptionId: req.subscriptionId.toLowerCase(), quantity: req.quantity }),
  );
  handleChange(
    cancelServiceUpdate,
    (req) => cancelProblem(state, req, today()),
    (req) => ({ kind: 'cancelService', effectiveDate: req.effectiveDate ?? today() }),
  );
  handleChange(
    reactivateServiceUpdate,
    (req) => reactivateProblem(state, req),
    () => ({ kind: 'reactivateService' }),
  );

  const reconcile = async () => {
    const view = await reconcileTenant({
      providerId: input.providerId,
      tenantId: input.tenantId,
      reconcileId: uuid4(),
      known: state.licences,
      initial: tenant.neverReconciled,
    });
    tenant.recordReconcile(view, new Date().toISOString());
  };

  // A failure carried across continue-as-new is retried soon, not at the usual interval.
  const retryMs = Math.min(everyMs, RECONCILE_RETRY_MS);
  let nextReconcileMs = tenant.lastReconcileFailed ? retryMs : everyMs;
  for (;;) {
    await condition(() => reconcileRequested, nextReconcileMs);
    reconcileRequested = false;
    nextReconcileMs = everyMs;
    try {
      await inTurn.run(reconcile);
    } catch (err) {
      if (isCancellation(err)) throw err;
      // Failed for good (credentials rotated, the carrier down past the activity's 30 minutes): the
      // tenant stays an entity that takes changes; the failure shows in its state, and it tries again soon.
      tenant.recordReconcileFailure(failureReason(err), new Date().toISOString());
      nextReconcileMs = retryMs;
    }
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_EVENTS_BEFORE_CONTINUE_AS_NEW) {
      // A change accepted meanwhile finishes here first (its activity, its answer, its state):
      // continuing as new would cut its Update off.
      if (!allHandlersFinished()) {
        continuingAsNew = true;
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
