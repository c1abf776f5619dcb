import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import {
  adminTextOf,
  requestIdReuseProblem,
  requestProblem,
  unrecordableProblem,
  withAdminTextCut,
} from '../core/quarantine-requests';
import { QuarantineGroupState } from './quarantine-group-state';
import { GROUP_QUERIES, GROUP_SIGNALS, GROUP_UPDATE, groupCurrentDetails } from './quarantine-group.help';
import {
  acceptRevisionSignal,
  allocateSignal,
  cleanseSignal,
  groupStateQuery,
  linesAddedSignal,
  resolveUpdate,
  signalsQuery,
  writeOffSignal,
  type ActionOutcome,
  type GroupState,
  type QuarantineActivities,
  type QuarantineGroupInput,
  type ResolveRequest,
} from './quarantine-group.messages';

const { loadGroupSummary, applyQuarantineAction } = proxyActivities<QuarantineActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

const HISTORY_EVENTS_BEFORE_CONTINUE_AS_NEW = 2000;

/**
 * One quarantine group: a provider's lines with one reason and one tenant identifier. It waits,
 * durably and for as long as it takes, for an admin to allocate, cleanse or write them off, and
 * completes when no line is left. Admins reach it from the Web UI ("Send signal"), from
 * `temporal workflow signal`, or from `npm run csp -- quarantine ...` (an Update, answered at once).
 */
export async function quarantineGroupWorkflow(input: QuarantineGroupInput): Promise<GroupState> {
  const group = new QuarantineGroupState(input.groupKey, input.recentActions);
  const showDetails = () => setCurrentDetails(groupCurrentDetails(input, group.summary, group.lastAction));

  setHandler(groupStateQuery, () => group.view());
  setHandler(signalsQuery, () => ({ signals: GROUP_SIGNALS, queries: GROUP_QUERIES, update: GROUP_UPDATE }));
  setHandler(linesAddedSignal, (added) => {
    if (group.linesAdded(added)) showDetails();
  });

  // A signal cannot be refused: one whose text is over the cap is recorded as rejected, and what
  // the group keeps of it is cut to the cap.
  const queueSignalled = (req: ResolveRequest) => {
    const rejection = adminTextOf(req) ?? undefined;
    group.queue.push(rejection ? { req: withAdminTextCut(req), rejection } : { req });
  };
  setHandler(allocateSignal, (req) => queueSignalled({ ...req, action: 'allocate' }));
  setHandler(cleanseSignal, (req) => queueSignalled({ ...req, action: 'cleanse' }));
  setHandler(writeOffSignal, (req) => queueSignalled({ ...req, action: 'writeOff' }));
  setHandler(acceptRevisionSignal, (req) => queueSignalled({ ...req, action: 'acceptRevision' }));
  setHandler(resolveUpdate, (req) => new Promise<ActionOutcome>((answer) => group.queue.push({ req, answer })), {
    // Only what cannot be recorded (or should not be) is refused here: an Update refused by its
    // validator leaves no trace in the group (its sender records the refusal in the audit log);
    // every other refusal is recorded and answered as REJECTED. A request id the group has seen
    // with another action is refused here; the activity checks the group's whole trail too.
    validator: (req: ResolveRequest) => {
      const problem = unrecordableProblem(req) ?? requestIdReuseProblem(req, group.requestsSeen());
      if (problem !== null) throw new Error(problem);
    },
  });

  /**
   * Applies (or records the rejection of) one request. A failure no retry can fix (a data error
   * while saving) leaves the lines quarantined; the request is then recorded once more with that
   * reason as its rejection: a request the activity had recorded keeps its record (its lines back
   * in quarantine, saying why), one it had not is recorded as rejected. The group waits on.
   */
  const apply = async (req: ResolveRequest, rejection: string | null): Promise<ActionOutcome> => {
    const requestId = req.requestId ?? `${workflowInfo().workflowId}/${uuid4()}`;
    const action = {
      groupKey: input.groupKey,
      providerId: input.providerId,
      request: { ...req, requestId },
      rejection,
    };
    try {
      return await applyQuarantineAction(action);
    } catch (err) {
      const cause = err instanceof ActivityFailure ? err.cause : undefined;
      if (!(cause instanceof ApplicationFailure) || !cause.nonRetryable) throw err;
      return applyQuarantineAction({ ...action, rejection: `could not be applied: ${cause.message}` });
    }
  };

  const readLines = async () => {
    await group.readLines(() => loadGroupSummary({ groupKey: input.groupKey }));
    showDetails();
  };

  for (;;) {
    await condition(() => group.queue.length > 0 || group.readDue);
    if (group.readDue) await readLines();
    while (group.queue.length > 0) {
      const { req, rejection, answer } = group.queue.shift()!;
      // A request that makes no sense is still recorded (as rejected, with why): the audit trail is complete.
      const outcome = await apply(req, rejection ?? requestProblem(req));
      group.recordOutcome(outcome);
      await readLines();
      answer?.(outcome);
    }
    if (group.resolved) {
      // The handlers here wait on no event (the loop answers them), so this holds within the task.
      await condition(allHandlersFinished);
      return group.view();
    }
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_EVENTS_BEFORE_CONTINUE_AS_NEW) {
      // An Update waits for this loop to answer it: with one queued, the loop goes on instead.
      await condition(() => group.queue.length > 0 || allHandlersFinished());
      if (group.queue.length === 0)
        await continueAsNew<typeof quarantineGroupWorkflow>({ ...input, recentActions: group.actions });
    }
  }
}
