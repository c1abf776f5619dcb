import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asBenchRun, judgeTargets, median, type BenchRun } from '../bench/targets-verdict';

function run(over: Partial<BenchRun> = {}): BenchRun {
  return {
    records: 1_000_000,
    recordsPerSecond: 30_000,
    limitRecordsPerSecond: 50_000,
    ratio: 0.6,
    simulatorLinesPerSecond: 400_000,
    peakRssMb: 420,
    historyEvents: 277,
    ...over,
  };
}

function twentyRun(over: Partial<BenchRun> = {}): BenchRun {
  return run({
    providers: 20,
    workers: 2,
    cyclesAtOnce: 20,
    historyEvents: 49,
    perWorker: [
      { fetchActivities: 30, pages: 500, lines: 500_000 },
      { fetchActivities: 30, pages: 500, lines: 500_000 },
    ],
    ...over,
  });
}

const defaultRun = {
  records: 200_000,
  seconds: 7,
  recordsPerSecond: 28_000,
  limitRecordsPerSecond: 50_000,
  ratio: 0.56,
  simulatorLinesPerSecond: 400_000,
  peakRssMb: 400,
  historyEvents: 85,
  cpuSeconds: {},
};

const verdictOf = (verdicts: ReturnType<typeof judgeTargets>, startsWith: string) => {
  const v = verdicts.find((x) => x.target.startsWith(startsWith));
  assert.ok(v, `no verdict for "${startsWith}"`);
  return v;
};

test('median: odd and even counts, unsorted input; none is an error', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /no figures/);
});

test('every target met: each verdict says so, with the figures it was judged on', () => {
  const verdicts = judgeTargets(
    [run(), run({ recordsPerSecond: 31_000 })],
    [twentyRun({ recordsPerSecond: 30_500 }), twentyRun({ recordsPerSecond: 31_000 })],
    [defaultRun],
  );
  assert.equal(verdicts.length, 9);
  for (const v of verdicts) assert.equal(v.met, true, `${v.target}: ${v.measured}`);
  assert.match(
    verdictOf(verdicts, 'twenty cycles: total').measured,
    /median 30,750 against 30,500 \(1\.008\); ahead in 2 of 2 pairs/,
  );
});

test('twenty cycles behind one cycle by the medians: that target alone is not met', () => {
  const verdicts = judgeTargets(
    [run({ recordsPerSecond: 30_000 }), run({ recordsPerSecond: 29_000 })],
    [twentyRun({ recordsPerSecond: 27_000 }), twentyRun({ recordsPerSecond: 29_500 })],
    [],
  );
  const total = verdictOf(verdicts, 'twenty cycles: total');
  assert.equal(total.met, false);
  assert.match(total.measured, /median 28,250 against 29,500 .*ahead in 1 of 2 pairs/);
  assert.deepEqual(
    verdicts.filter((v) => !v.met).map((v) => v.target),
    [total.target],
  );
});

test('limits that must hold in every run fail on one bad run, medians do not', () => {
  const verdicts = judgeTargets(
    [run(), run({ peakRssMb: 530, recordsPerSecond: 19_000, ratio: 0.45 }), run()],
    [twentyRun({ historyEvents: 2_001 })],
    [],
  );
  assert.equal(verdictOf(verdicts, 'worker peak RSS').met, false);
  assert.equal(verdictOf(verdicts, "a cycle's history").met, false);
  assert.equal(
    verdictOf(verdicts, 'one cycle of a million lines').met,
    true,
    'one slow run of three: the median holds',
  );
  assert.equal(verdictOf(verdicts, 'one cycle: ≥ 0.5').met, true);
});

test('one cycle below 20,000 lines/s or half the limit by the median is not met', () => {
  const verdicts = judgeTargets(
    [run({ recordsPerSecond: 19_999, ratio: 0.49 })],
    [twentyRun({ recordsPerSecond: 19_999 })],
    [],
  );
  assert.equal(verdictOf(verdicts, 'one cycle of a million lines').met, false);
  assert.equal(verdictOf(verdicts, 'one cycle: ≥ 0.5').met, false);
});

test('the simulator is judged by the median of every run', () => {
  const slow = judgeTargets(
    [run({ simulatorLinesPerSecond: 150_000 }), run({ simulatorLinesPerSecond: 190_000 })],
    [twentyRun({ simulatorLinesPerSecond: 300_000 })],
    [],
  );
  assert.equal(verdictOf(slow, 'the simulator').met, false);
  const fast = judgeTargets(
    [run({ simulatorLinesPerSecond: 150_000 }), run({ simulatorLinesPerSecond: 210_000 })],
    [twentyRun({ simulatorLinesPerSecond: 300_000 })],
    [],
  );
  assert.equal(verdictOf(fast, 'the simulator').met, true);
});

test('twenty cycles not all at once, or one worker idle, or a single worker: not met', () => {
  assert.equal(
    verdictOf(judgeTargets([run()], [twentyRun({ cyclesAtOnce: 19 })], []), 'twenty cycles: all running').met,
    false,
  );
  assert.equal(
    verdictOf(judgeTargets([run()], [twentyRun({ cyclesAtOnce: undefined })], []), 'twenty cycles: all running').met,
    false,
  );
  const idle = twentyRun({
    perWorker: [
      { fetchActivities: 60, pages: 1000, lines: 1_000_000 },
      { fetchActivities: 0, pages: 0, lines: 0 },
    ],
  });
  assert.equal(verdictOf(judgeTargets([run()], [idle], []), 'twenty cycles: work spread').met, false);
  const oneWorker = twentyRun({ workers: 1, perWorker: [{ fetchActivities: 60, pages: 1000, lines: 1_000_000 }] });
  assert.equal(verdictOf(judgeTargets([run()], [oneWorker], []), 'twenty cycles: work spread').met, false);
});

test('a default run missing a field is named; no runs of a shape is an error', () => {
  const { ratio: _dropped, ...noRatio } = defaultRun;
  const v = verdictOf(judgeTargets([run()], [twentyRun()], [noRatio]), 'the default');
  assert.equal(v.met, false);
  assert.match(v.measured, /missing: ratio/);
  assert.throws(() => judgeTargets([], [twentyRun()], []), /at least one single-cycle run/);
});

test('asBenchRun: a run without its figures is a clear error', () => {
  assert.equal(asBenchRun({ ...run() }).recordsPerSecond, 30_000);
  assert.throws(
    () => asBenchRun({ records: 1, recordsPerSecond: '30000' }),
    /lacks recordsPerSecond, limitRecordsPerSecond, ratio, simulatorLinesPerSecond, peakRssMb, historyEvents/,
  );
});

test('twenty against one says how much more CPU twenty cycles made and the most they could reach', () => {
  // One cycle: 40 s wall, 74 CPU s (1.85 of 2 cores). Twenty: 86 CPU s, so at least 43 s with both cores busy.
  const single = [
    run({ seconds: 40, cpuSeconds: { worker: 27.4, postgres: 42.4, simulatorAndBench: 2.5, temporal: 1.7 } }),
  ];
  const twenty = [
    twentyRun({
      recordsPerSecond: 22_130,
      seconds: 45.2,
      cpuSeconds: { worker: 30.7, postgres: 45.8, simulatorAndBench: 2.9, temporal: 6.6 },
    }),
  ];
  const total = verdictOf(judgeTargets(single, twenty, []), 'twenty cycles: total');
  assert.match(
    total.measured,
    /CPU s a run \(medians\): twenty 86 against one 74 \(\+16 %\), one cycle kept 1\.85 of 2 cores busy; with all 2 busy twenty could reach at most 0\.930 × one$/,
  );
  // Four cores: twice the room.
  assert.match(
    verdictOf(judgeTargets(single, twenty, [], 4), 'twenty cycles: total').measured,
    /at most 1\.860 × one$/,
  );
  // Without CPU figures (an older run's line) the verdict says nothing of them.
  assert.doesNotMatch(verdictOf(judgeTargets([run()], [twentyRun()], []), 'twenty cycles: total').measured, /CPU/);
});
