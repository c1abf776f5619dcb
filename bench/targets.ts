/**
 * `npm run bench:targets`: issue #17's targets measured and judged in one command. It runs
 * `--pairs` alternating pairs of one cycle of a million lines and twenty cycles of 50,000 lines
 * on two workers, then the default run (200,000 lines), each as its own `bench/usage-cycle.ts`
 * process on a fresh stack, never two at once; then prints every target with the figures it was
 * judged on (bench/targets-verdict.ts says how) and whether it was met.
 * Last line: one JSON object. Exit code 0 whether or not the targets were met (it is a measurement).
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { asBenchRun, judgeTargets, type BenchRun } from './targets-verdict';

const o = new Command('bench:targets')
  .option('--pairs <n>', 'alternating pairs of one cycle and twenty cycles (an odd count gives a true median)', '3')
  .option('--no-default-run', 'skip the default 200,000-line run')
  .parse()
  .opts();

const pairs = Number(o.pairs);
if (!Number.isInteger(pairs) || pairs < 1 || pairs > 20) {
  process.stderr.write(`bench:targets: --pairs must be a whole number from 1 to 20, not "${o.pairs}"\n`);
  process.exit(2);
}

/** One bench run in its own process; its progress goes to our stderr, its last stdout line is the result. */
function benchRun(args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const script = path.join(__dirname, 'usage-cycle.ts');
    process.stderr.write(`\nbench:targets: ${['usage-cycle.ts', ...args].join(' ')}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`usage-cycle.ts ${args.join(' ')} exited with ${code ?? signal}`));
      let result: Record<string, unknown>;
      try {
        result = JSON.parse(last) as Record<string, unknown>;
      } catch {
        return reject(
          new Error(`usage-cycle.ts ${args.join(' ')} printed no JSON line (last line: ${last.slice(0, 200)})`),
        );
      }
      process.stderr.write(
        `bench:targets: → ${String(result.recordsPerSecond)} lines/s, ratio ${String(result.ratio)}, simulator ${String(result.simulatorLinesPerSecond)} lines/s, peak RSS ${String(result.peakRssMb)} MB, ${String(result.historyEvents)} events\n`,
      );
      resolve(result);
    });
  });
}

async function main(): Promise<void> {
  const single: BenchRun[] = [];
  const twenty: BenchRun[] = [];
  for (let i = 0; i < pairs; i++) {
    single.push(asBenchRun(await benchRun(['--records', '1000000', '--fan-out-groups', '0'])));
    twenty.push(asBenchRun(await benchRun(['--providers', '20', '--records', '50000', '--fan-out-groups', '0'])));
  }
  const defaults = o.defaultRun ? [await benchRun(['--fan-out-groups', '0'])] : [];
  const verdicts = judgeTargets(single, twenty, defaults, os.availableParallelism());
  process.stderr.write('\n');
  for (const v of verdicts) process.stderr.write(`${v.met ? 'met    ' : 'NOT MET'}  ${v.target}: ${v.measured}\n`);
  process.stdout.write(
    JSON.stringify({
      allMet: verdicts.every((v) => v.met),
      targets: verdicts,
      runs: { single, twenty, default: defaults },
    }) + '\n',
  );
}

main().catch((err: Error) => {
  process.stderr.write(`bench:targets: ${err.message}\n`);
  process.exit(1);
});
