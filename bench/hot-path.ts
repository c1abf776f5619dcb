/**
 * `npx tsx bench/hot-path.ts [--records N]`: the worker's per-line CPU for a usage cycle without
 * sockets or PostgreSQL: a carrier page's text → number-preserving parse → lines (hash, facts) →
 * decisions → the COPY rows (binary) of lines and charges, as bytes (db/usage-rows.ts
 * encodePage). Prints µs per line for each stage; run with --cpu-prof to see inside them.
 */
import { Command } from '@commander-js/extra-typings';
import { createHash } from 'node:crypto';
import { parseNumberPreserving } from '../lib/fast-json';
import { batchDecider, type Decision } from '../core/mediation';
import { batchContext, receivedLines } from '../activities/mediate';
import { encodePage } from '../db/usage-rows';
import { benchUsage } from './hot-path-data';

const o = new Command('hot-path')
  .option('--records <n>', 'usage lines', '200000')
  .option('--page-size <n>', 'lines per page', '1000')
  .option('--rounds <n>', 'passes over the lines', '3')
  .parse()
  .opts();
const records = Number(o.records);
const pageSize = Number(o.pageSize);
const { billing, pageTexts } = benchUsage(records, pageSize);
const pages = [...pageTexts()];
const source = {
  providerId: '6f1c2a8e-0000-4000-8000-000000000001',
  receivedBy: 'bench-cycle-0-1764145200000',
  mediatedBy: 'bench-cycle-0-1764145200000',
};

// The machine's speed varies from second to second: the fastest round of each stage is reported too.
const best = { parse: Infinity, lines: Infinity, decide: Infinity, rows: Infinity, total: Infinity };
for (let round = 0; round < Number(o.rounds); round++) {
  const ns = { parse: 0n, lines: 0n, decide: 0n, rows: 0n };
  let mark = process.hrtime.bigint();
  const lap = (k: keyof typeof ns) => {
    const now = process.hrtime.bigint();
    ns[k] += now - mark;
    mark = now;
  };
  let bytes = 0;
  for (const text of pages) {
    const parsed = parseNumberPreserving(text, 'Records');
    createHash('sha256').update(text).digest('hex');
    lap('parse');
    const lines = receivedLines((parsed.value as { Records: unknown[] }).Records, parsed.elementTexts!);
    lap('lines');
    const decideOne = batchDecider(batchContext(billing, new Map()));
    const decisions: Decision[] = lines.map((l) => decideOne(l));
    lap('decide');
    const encoded = encodePage(
      source,
      lines.map((line, i) => Object.assign(line, { decision: decisions[i]! })),
    );
    bytes += encoded.lines.bytes().length + encoded.charges.bytes().length;
    lap('rows');
  }
  const per = (n: bigint) => Number(n / 1000n) / records;
  const stages = {
    parse: per(ns.parse),
    lines: per(ns.lines),
    decide: per(ns.decide),
    rows: per(ns.rows),
    total: per(ns.parse + ns.lines + ns.decide + ns.rows),
  };
  if (round > 0) for (const k of Object.keys(best) as Array<keyof typeof best>) best[k] = Math.min(best[k], stages[k]);
  console.error(
    JSON.stringify({ round, ...stages, copyBytesPerLine: Math.round(bytes / records) }, (_, v: unknown) =>
      typeof v === 'number' ? Math.round(v * 100) / 100 : v,
    ),
  );
}
// Last line: µs per line, the fastest round of each stage (the first round, which warms up, left out).
console.log(
  JSON.stringify({ microsPerLine: best }, (_, v: unknown) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v)),
);
