/**
 * When a run's cycles did what: from each cycle's activities (started → completed, read from its
 * history), each activity type's first start, last end and summed time, and how many cycles were
 * running at once at most (a cycle runs from its first activity's start to its last one's end).
 * Pure: the bench reads the histories and their spans (harness.ts `workflowHistories`, `activitySpans`) and prints this.
 */
export interface ActivitySpan {
  activity: string;
  startedMs: number;
  endedMs: number;
}

export interface ActivityTimeline {
  calls: number;
  /** Seconds from the run's start. */
  from: number;
  to: number;
  /** The calls' durations added up (several run at once). */
  busySeconds: number;
}

export interface CycleTimeline {
  activities: Record<string, ActivityTimeline>;
  /** Most cycles running at the same moment. */
  cyclesAtOnce: number;
}

const tenth = (n: number) => Math.round(n * 10) / 10;

export function cycleTimeline(spansByCycle: readonly (readonly ActivitySpan[])[], runStartedMs: number): CycleTimeline {
  const activities: Record<string, ActivityTimeline> = {};
  for (const s of spansByCycle.flat()) {
    const t = (activities[s.activity] ??= { calls: 0, from: Infinity, to: 0, busySeconds: 0 });
    t.calls++;
    t.from = Math.min(t.from, tenth((s.startedMs - runStartedMs) / 1000));
    t.to = Math.max(t.to, tenth((s.endedMs - runStartedMs) / 1000));
    t.busySeconds += (s.endedMs - s.startedMs) / 1000;
  }
  for (const t of Object.values(activities)) t.busySeconds = tenth(t.busySeconds);

  // Sweep over the cycles' start (+1) and end (−1) moments; an end sorts before a start at the same ms.
  const edges: Array<[number, number]> = [];
  for (const spans of spansByCycle) {
    if (spans.length === 0) continue;
    edges.push([Math.min(...spans.map((s) => s.startedMs)), 1], [Math.max(...spans.map((s) => s.endedMs)), -1]);
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let cyclesAtOnce = 0;
  for (const [, step] of edges) cyclesAtOnce = Math.max(cyclesAtOnce, (running += step));
  return { activities, cyclesAtOnce };
}
