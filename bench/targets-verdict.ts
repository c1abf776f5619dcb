/**
 * Issue #17's targets, judged from the JSON lines of `bench/usage-cycle.ts` runs. Pure: the
 * runner (bench/targets.ts) makes the runs. The machine's speed moves from run to run (the limit
 * by a quarter within the hour), so the single cycle and twenty cycles are run in alternating
 * pairs and compared by their medians, never one run against another; a limit that must hold in
 * every run (memory, history, spread) is judged on every run.
 */
export interface BenchRun {
  records: number;
  providers?: number;
  workers?: number;
  recordsPerSecond: number;
  limitRecordsPerSecond: number;
  ratio: number;
  simulatorLinesPerSecond: number;
  peakRssMb: number;
  historyEvents: number;
  cyclesAtOnce?: number;
  /** Wall-clock seconds of the cycle(s), and the CPU seconds each process spent meanwhile. */
  seconds?: number;
  cpuSeconds?: Record<string, number>;
  perWorker?: Array<{ fetchActivities: number; pages: number; lines: number }>;
}

export interface TargetVerdict {
  target: string;
  /** What was compared, with the figures. */
  measured: string;
  met: boolean;
}

export const TARGETS = {
  linesPerSecond: 20_000,
  ratioToLimit: 0.5,
  peakRssMb: 512,
  historyEvents: 2_000,
  simulatorLinesPerSecond: 200_000,
} as const;

/** The figures a run is judged on. */
const REQUIRED_NUMBERS = [
  'records',
  'recordsPerSecond',
  'limitRecordsPerSecond',
  'ratio',
  'simulatorLinesPerSecond',
  'peakRssMb',
  'historyEvents',
] as const;

/** The fields every run reports (the default 200,000-line run "reports the same fields"). */
export const REPORTED_FIELDS = [...REQUIRED_NUMBERS, 'seconds', 'cpuSeconds'] as const;

/** A bench run's JSON line as a BenchRun, or a clear error naming what is missing. */
export function asBenchRun(line: Record<string, unknown>): BenchRun {
  const bad = REQUIRED_NUMBERS.filter((f) => typeof line[f] !== 'number' || !Number.isFinite(line[f]));
  if (bad.length > 0)
    throw new Error(`a bench run's result lacks ${bad.join(', ')} (as numbers): ${JSON.stringify(line).slice(0, 200)}`);
  return line as unknown as BenchRun;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of no figures');
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const list = (xs: readonly number[]) => xs.map((x) => x.toLocaleString('en-US')).join(', ');

/** Every process's CPU seconds during the run's cycles (workers, PostgreSQL, simulator, Temporal). */
function totalCpuSeconds(r: BenchRun): number | undefined {
  const parts = Object.values(r.cpuSeconds ?? {});
  return parts.length > 0 && parts.every((x) => Number.isFinite(x)) ? parts.reduce((a, b) => a + b, 0) : undefined;
}

/**
 * Why twenty cycles land where they do: the work they make (all processes' CPU seconds) against
 * one cycle's, and the most they could reach with every core busy. Twenty cycles of the same
 * lines take at least their CPU seconds spread over the cores, so against one cycle's wall clock
 * T they reach at most cores × T / CPU(twenty) of its throughput. Undefined without the figures.
 */
export function cpuCeiling(
  single: readonly BenchRun[],
  twenty: readonly BenchRun[],
  cores: number,
): string | undefined {
  const singleCpu = single.map(totalCpuSeconds);
  const twentyCpu = twenty.map(totalCpuSeconds);
  if (![...singleCpu, ...twentyCpu].every((c): c is number => c !== undefined) || !single.every((r) => r.seconds))
    return undefined;
  const one = median(singleCpu as number[]);
  const many = median(twentyCpu as number[]);
  const oneSeconds = median(single.map((r) => r.seconds!));
  const round1 = (x: number) => Math.round(x * 10) / 10;
  return (
    `CPU s a run (medians): twenty ${round1(many)} against one ${round1(one)} (${many >= one ? '+' : ''}${Math.round((many / one - 1) * 100)} %), ` +
    `one cycle kept ${(one / oneSeconds).toFixed(2)} of ${cores} cores busy; with all ${cores} busy twenty could reach at most ${((cores * oneSeconds) / many).toFixed(3)} × one`
  );
}

/**
 * `single`: one cycle of a million lines; `twenty`: twenty providers' cycles at once on two
 * workers, run alternately with `single`; `defaults`: the default run (200,000 lines).
 */
export function judgeTargets(
  single: readonly BenchRun[],
  twenty: readonly BenchRun[],
  defaults: readonly Record<string, unknown>[],
  cores = 2,
): TargetVerdict[] {
  if (single.length === 0 || twenty.length === 0)
    throw new Error('the targets need at least one single-cycle run and one twenty-cycle run');
  const all = [...single, ...twenty];
  const singleRate = median(single.map((r) => r.recordsPerSecond));
  const singleRatio = median(single.map((r) => r.ratio));
  const twentyRate = median(twenty.map((r) => r.recordsPerSecond));
  const simulatorRate = median(all.map((r) => r.simulatorLinesPerSecond));
  const pairsAhead = twenty.filter(
    (r, i) => single[i] !== undefined && r.recordsPerSecond >= single[i].recordsPerSecond,
  ).length;
  const ceiling = cpuCeiling(single, twenty, cores);
  const verdicts: TargetVerdict[] = [
    {
      target: `one cycle of a million lines: ≥ ${list([TARGETS.linesPerSecond])} lines/s (median)`,
      measured: `${list(single.map((r) => r.recordsPerSecond))}: median ${list([singleRate])}`,
      met: singleRate >= TARGETS.linesPerSecond,
    },
    {
      target: `one cycle: ≥ ${TARGETS.ratioToLimit} of the limit measured in the same run (median)`,
      measured: `${single.map((r) => r.ratio).join(', ')}: median ${singleRatio}`,
      met: singleRatio >= TARGETS.ratioToLimit,
    },
    {
      target: `worker peak RSS ≤ ${TARGETS.peakRssMb} MB (every run)`,
      measured: `${list(all.map((r) => r.peakRssMb))} MB`,
      met: all.every((r) => r.peakRssMb > 0 && r.peakRssMb <= TARGETS.peakRssMb),
    },
    {
      target: `a cycle's history ≤ ${list([TARGETS.historyEvents])} events (every run)`,
      measured: `${list(all.map((r) => r.historyEvents))} events`,
      met: all.every((r) => r.historyEvents > 0 && r.historyEvents <= TARGETS.historyEvents),
    },
    {
      target: `the simulator serves ≥ ${list([TARGETS.simulatorLinesPerSecond])} lines/s (median)`,
      measured: `${list(all.map((r) => r.simulatorLinesPerSecond))}: median ${list([simulatorRate])}`,
      met: simulatorRate >= TARGETS.simulatorLinesPerSecond,
    },
    {
      target: 'twenty cycles: all running at once (every run)',
      measured: twenty.map((r) => `${r.cyclesAtOnce ?? '?'} of ${r.providers ?? '?'}`).join(', '),
      met: twenty.every((r) => r.providers !== undefined && r.providers > 1 && r.cyclesAtOnce === r.providers),
    },
    {
      target: 'twenty cycles: work spread over both workers (every run)',
      measured: twenty
        .map((r) => (r.perWorker ?? []).map((w) => `${w.pages} pages`).join(' / ') || 'no per-worker counts')
        .join('; '),
      met: twenty.every(
        (r) =>
          (r.workers ?? 0) >= 2 && (r.perWorker ?? []).length === r.workers && r.perWorker!.every((w) => w.pages > 0),
      ),
    },
    {
      target: 'twenty cycles: total throughput ≥ the single-cycle figure (medians of alternating runs)',
      measured: `${list(twenty.map((r) => r.recordsPerSecond))}: median ${list([twentyRate])} against ${list([singleRate])} (${(twentyRate / singleRate).toFixed(3)}); ahead in ${pairsAhead} of ${Math.min(single.length, twenty.length)} pairs${ceiling ? `; ${ceiling}` : ''}`,
      met: twentyRate >= singleRate,
    },
  ];
  if (defaults.length > 0) {
    const missing = defaults.flatMap((r) => REPORTED_FIELDS.filter((f) => r[f] === undefined || r[f] === null));
    verdicts.push({
      target: 'the default 200,000-line run reports the same fields',
      measured:
        missing.length === 0
          ? `${REPORTED_FIELDS.join(', ')}: all there`
          : `missing: ${[...new Set(missing)].join(', ')}`,
      met: missing.length === 0,
    });
  }
  return verdicts;
}
