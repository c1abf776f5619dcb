import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { CARRIER_LABEL, CSP_CARRIER, CSP_PROVIDER_ID, CSP_QUARANTINE_REASON, CSP_TENANT_ID } from './search-attributes';
import type {
  ActionOutcome,
  AdminAction,
  AllocateRequest,
  ApplyActionInput,
  GroupState,
  GroupSummary,
  ResolveRequest,
  WriteOffRequest,
} from './types';

/**
 * New lines reached the group: where from and how many. `summary`, when the sender read it (a
 * cycle's fan-out does, for all its groups in one statement, after the lines were stored) spares
 * the group the activity that would read it again, new or already waiting: the workflow task that
 * takes the signal schedules nothing. Of two summaries the one read later (`asOf`) wins.
 */
export interface LinesAdded {
  source: string;
  count: number;
  summary?: GroupSummary;
}
export const linesAddedSignal = defineSignal<[LinesAdded]>('linesAdded');
export const allocateSignal = defineSignal<[AllocateRequest]>('allocate');
export const cleanseSignal = defineSignal<[AdminAction]>('cleanse');
export const writeOffSignal = defineSignal<[WriteOffRequest]>('writeOff');
export const acceptRevisionSignal = defineSignal<[AdminAction]>('acceptRevision');
export const resolveUpdate = defineUpdate<ActionOutcome, [ResolveRequest]>('resolve');
export const groupStateQuery = defineQuery<GroupState>('state');

/**
 * What an admin can send this workflow, with an example payload: Temporal accepts a misspelled
 * signal name silently, so the names are listed by the `signals` query and on the Web UI page.
 */
export const GROUP_SIGNALS = [
  {
    name: 'allocate',
    does: 'bill the lines to a service of the same provider',
    example: { serviceId: 'S-1001', by: 'alice', note: 'new tenant of the customer' },
  },
  {
    name: 'cleanse',
    does: 'process the lines again after the cause was fixed',
    example: { by: 'alice', note: 'rate added' },
  },
  {
    name: 'writeOff',
    does: 'never bill the lines (a reason is required)',
    example: { by: 'alice', reason: 'billed by the NZ entity' },
  },
  {
    name: 'acceptRevision',
    does: 'DUPLICATE_USAGE only: credit the billed version, charge the revision',
    example: { by: 'alice' },
  },
] as const;
export const signalsQuery = defineQuery<{ signals: typeof GROUP_SIGNALS; queries: string[]; update: string }>(
  'signals',
);

/** The signal list as the Web UI shows it (markdown). */
export function signalsHelp(): string {
  return [
    'Signals ("Send signal"; the name must be exact, a misspelled one is accepted and ignored):',
    ...GROUP_SIGNALS.map((x) => `- \`${x.name}\` ${JSON.stringify(x.example)}: ${x.does}`),
    'Queries: `state`, `signals`. The csp CLI uses the `resolve` Update.',
  ].join('\n');
}

export interface QuarantineGroupInput {
  groupKey: string;
  providerId: string;
  reason: string;
  tenantRef: string;
  /** Set by the start options' search attributes (quarantine-group.api.ts): nothing to upsert. */
  searchAttributesAtStart?: boolean;
  /** Carried across continue-as-new: the most recent actions (the full trail is in the database). */
  recentActions?: ActionOutcome[];
}

/** The activities this workflow calls (activities/quarantine.ts implements them). */
export interface QuarantineActivities {
  loadGroupSummary(input: { groupKey: string }): Promise<GroupSummary>;
  applyQuarantineAction(input: ApplyActionInput): Promise<ActionOutcome>;
}

const { loadGroupSummary, applyQuarantineAction } = proxyActivities<QuarantineActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

const KEEP_ACTIONS = 20;

/** Patch id: a waiting group takes a newer summary sent with its lines (see linesAddedSignal). */
export const SUMMARIES_BY_AS_OF = 'group-summaries-by-as-of';

/**
 * Whether `a` was read after `b`, both stamped by the database (`asOf`). Summaries read by an
 * earlier version carry no stamp and are never newer or older than another.
 */
export function isNewer(a: GroupSummary, b: GroupSummary): boolean {
  return a.asOf !== undefined && b.asOf !== undefined && a.asOf > b.asOf;
}

/** Checks that need no I/O; the activity checks the rest (service exists, same provider). */
export function validateRequest(req: ResolveRequest | undefined): string | null {
  if (!req || typeof req !== 'object') return 'request must be an object';
  if (typeof req.by !== 'string' || req.by.trim() === '') return 'by (the admin taking the action) is required';
  if (req.action === 'allocate' && (typeof req.serviceId !== 'string' || req.serviceId.trim() === ''))
    return 'allocate needs a serviceId';
  if (req.action === 'writeOff' && (typeof req.reason !== 'string' || req.reason.trim() === ''))
    return 'a write-off needs a reason';
  if (!['allocate', 'cleanse', 'writeOff', 'acceptRevision'].includes(req.action))
    return `unknown action "${String((req as { action?: unknown }).action)}"`;
  return null;
}

/**
 * One quarantine group: a provider's lines with one reason and one tenant identifier. It waits,
 * durably and for as long as it takes, for an admin to allocate, cleanse or write them off, and
 * completes when no line is left. Admins reach it from the Web UI ("Send signal"), from
 * `temporal workflow signal`, or from `npm run csp -- quarantine ...` (an Update, answered at once).
 */
export async function quarantineGroupWorkflow(input: QuarantineGroupInput): Promise<GroupState> {
  const queue: Array<{ req: ResolveRequest; done?: (o: ActionOutcome) => void }> = [];
  const actions: ActionOutcome[] = [...(input.recentActions ?? [])];
  // Set by the handlers and reads below (typed so, not narrowed to its first value).
  let summary = null as GroupSummary | null;
  let refresh = true;

  // Groups started from quarantine-group.api.ts have them from their start options (and keep them
  // across continue-as-new); only older ones upsert them (an extra command and visibility write).
  // Decided by the input, not patched(): a patch marker upserts a search attribute of its own.
  if (!input.searchAttributesAtStart) {
    upsertSearchAttributes([
      { key: CSP_PROVIDER_ID, value: input.providerId },
      { key: CSP_QUARANTINE_REASON, value: input.reason },
      { key: CSP_TENANT_ID, value: input.tenantRef },
      { key: CSP_CARRIER, value: CARRIER_LABEL },
    ]);
  }

  setHandler(groupStateQuery, () => ({ summary, actions, pending: queue.length }));
  setHandler(signalsQuery, () => ({ signals: GROUP_SIGNALS, queries: ['state', 'signals'], update: 'resolve' }));
  // The Web UI shows this beside the static summary: what the group holds now, and what to send it.
  const showDetails = () => {
    const last = actions[actions.length - 1];
    setCurrentDetails(
      [
        summary?.details ?? `${input.reason} · tenant ${input.tenantRef} · provider ${input.providerId}`,
        last
          ? `Last action: ${last.action} by ${last.by}, ${last.outcome}${last.rejection ? ` (${last.rejection})` : ''}`
          : 'No action yet.',
        '',
        signalsHelp(),
      ].join('\n'),
    );
  };
  // linesAdded signals handled so far: a read scheduled after the n-th was handled counts its lines
  // (they were stored before the signal was sent), whatever the clocks say.
  let told = 0;
  setHandler(linesAddedSignal, (added) => {
    told++;
    const sent =
      added?.summary && added.summary.groupKey === input.groupKey && added.summary.lines > 0
        ? added.summary
        : undefined;
    if (!sent) {
      refresh = true; // nothing usable sent along: the group reads its lines again
    } else if (summary === null) {
      summary = sent; // just started: the summary sent is all it has
      refresh = false;
      showDetails();
    } else if (refresh || sent.asOf === undefined || summary.asOf === undefined || !patched(SUMMARIES_BY_AS_OF)) {
      // A read is due anyway, or the two cannot be compared (unstamped: read by an earlier
      // version); a group already waiting read its lines again before it compared summaries, and
      // still does in histories from then.
      refresh = true;
    } else if (isNewer(sent, summary)) {
      summary = sent; // read after its lines were stored, and later than the one held: it shows more
      showDetails();
    }
  });
  setHandler(allocateSignal, (req) => void queue.push({ req: { ...req, action: 'allocate' } }));
  setHandler(cleanseSignal, (req) => void queue.push({ req: { ...req, action: 'cleanse' } }));
  setHandler(writeOffSignal, (req) => void queue.push({ req: { ...req, action: 'writeOff' } }));
  setHandler(acceptRevisionSignal, (req) => void queue.push({ req: { ...req, action: 'acceptRevision' } }));
  setHandler(resolveUpdate, (req) => new Promise<ActionOutcome>((resolve) => queue.push({ req, done: resolve })), {
    // Only what cannot be recorded is refused here (an Update refused by its validator leaves no
    // trace); every other refusal is recorded in the audit trail and answered as REJECTED.
    validator: (req) => {
      if (!req || typeof req !== 'object') throw new Error('request must be an object');
      if (!['allocate', 'cleanse', 'writeOff', 'acceptRevision'].includes(req.action))
        throw new Error(`unknown action "${String((req as { action?: unknown }).action)}"`);
    },
  });

  /**
   * The group reads its lines. A read scheduled after a signal was handled counts that signal's
   * lines, so it is the truth unless lines were told while it was under way: then a summary sent
   * with them and read later is kept for showing, and a zero is read again before the group may
   * complete. Completion never rests on comparing stamps. Histories from before the patch took
   * every read as it came.
   */
  const readSummary = async (): Promise<void> => {
    const toldBefore = told;
    const read = await loadGroupSummary({ groupKey: input.groupKey });
    const toldMeanwhile = told !== toldBefore;
    summary = summary && toldMeanwhile && isNewer(summary, read) && patched(SUMMARIES_BY_AS_OF) ? summary : read;
    if (read.lines === 0 && toldMeanwhile && !refresh && patched(SUMMARIES_BY_AS_OF)) refresh = true;
    showDetails();
  };

  for (;;) {
    await condition(() => queue.length > 0 || refresh);
    if (refresh) {
      refresh = false;
      await readSummary();
    }
    while (queue.length > 0) {
      const { req, done } = queue.shift()!;
      // A signal that makes no sense is still recorded (as rejected, with why): the audit trail is complete.
      const outcome = await applyQuarantineAction({
        groupKey: input.groupKey,
        providerId: input.providerId,
        request: { ...req, requestId: req.requestId ?? `${workflowInfo().workflowId}/${uuid4()}` },
        rejection: validateRequest(req),
      });
      actions.push(outcome);
      if (actions.length > KEEP_ACTIONS) actions.splice(0, actions.length - KEEP_ACTIONS);
      await readSummary();
      done?.(outcome);
    }
    // Lines told since the last read (refresh) are read before the group may complete; histories
    // from before the patch completed regardless.
    if (summary && summary.lines === 0 && queue.length === 0 && !(refresh && patched(SUMMARIES_BY_AS_OF))) {
      // The handlers here wait on no event (the loop answers them), so this holds within the task.
      await condition(allHandlersFinished);
      return { summary, actions, pending: 0 };
    }
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 2000) {
      // An Update waits for this loop to answer it: with one queued, the loop goes on instead.
      await condition(() => queue.length > 0 || allHandlersFinished());
      if (queue.length === 0) await continueAsNew<typeof quarantineGroupWorkflow>({ ...input, recentActions: actions });
    }
  }
}
