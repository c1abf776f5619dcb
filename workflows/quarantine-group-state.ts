import { afterLinesAdded, afterRead } from '../core/group-summaries';
import type { ActionOutcome, GroupState, GroupSummary, LinesAdded, ResolveRequest } from './quarantine-group.messages';

/** Actions kept in the group's state for people to see (the full trail is in the database). */
const RECENT_ACTIONS_KEPT = 20;

/** An admin's request waiting its turn; `answer` is set for an Update (its caller waits on it). */
export interface QueuedAction {
  req: ResolveRequest;
  /** Known before it runs (text over the cap): the request is recorded as rejected with it. */
  rejection?: string;
  answer?: (o: ActionOutcome) => void;
}

/**
 * A quarantine group's state as its workflow holds it: its summary (and whether it must read its
 * lines again), the admins' requests waiting their turn, and the recent actions. The summary
 * rules are in core/group-summaries.ts.
 */
export class QuarantineGroupState {
  summary: GroupSummary | null = null;
  /** The group must read its lines before it may complete (it has none yet, or lines came since). */
  readDue = true;
  readonly queue: QueuedAction[] = [];
  readonly actions: ActionOutcome[];
  /**
   * linesAdded signals handled so far: a read scheduled after the n-th was handled counts its
   * lines (they were stored before the signal was sent), whatever the clocks say.
   */
  private linesAddedHandled = 0;

  constructor(
    private readonly groupKey: string,
    recentActions: ActionOutcome[] = [],
  ) {
    this.actions = [...recentActions];
  }

  /** New lines were told; true when the summary shown changed. */
  linesAdded(added: LinesAdded | undefined): boolean {
    this.linesAddedHandled++;
    const before = this.summary;
    ({ summary: this.summary, readDue: this.readDue } = afterLinesAdded(this, this.groupKey, added?.summary));
    return this.summary !== before;
  }

  /** Reads the group's lines with `load`, keeping what core/group-summaries.ts says to keep. */
  async readLines(load: () => Promise<GroupSummary>): Promise<void> {
    this.readDue = false;
    const handledBefore = this.linesAddedHandled;
    const read = await load();
    ({ summary: this.summary, readDue: this.readDue } = afterRead(
      this,
      read,
      this.linesAddedHandled !== handledBefore,
    ));
  }

  recordOutcome(outcome: ActionOutcome): void {
    this.actions.push(outcome);
    if (this.actions.length > RECENT_ACTIONS_KEPT) this.actions.splice(0, this.actions.length - RECENT_ACTIONS_KEPT);
  }

  /**
   * The requests this run knows of, applied or waiting: their ids and actions. (A refused one may
   * be a reused id itself: the trail in the database says which action owns the id.)
   */
  requestsSeen(): Array<{ requestId?: string; action: string }> {
    return [...this.actions.filter((a) => a.outcome === 'APPLIED'), ...this.queue.map((q) => q.req)];
  }

  get lastAction(): ActionOutcome | undefined {
    return this.actions[this.actions.length - 1];
  }

  /** No line left, nothing asked, nothing to read again: the group's work is done. */
  get resolved(): boolean {
    return this.summary !== null && this.summary.lines === 0 && this.queue.length === 0 && !this.readDue;
  }

  view(): GroupState {
    return { summary: this.summary, actions: this.actions, pending: this.queue.length };
  }
}
