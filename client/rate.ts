/**
 * `npm run --silent rate -- --rate-card F --services F --records F`: the usage cycle's rating, offline.
 * Prints one JSON array (one object per input record, in input order). A file that cannot be read
 * or parsed exits 2 with a one-line message naming the file; bad records never stop the run.
 */
import { readFileSync } from 'node:fs';
import { Command } from '@commander-js/extra-typings';
import { parseLosslessJson } from '../lib/lossless';
import { parseRateCard, parseServices } from '../core/rate-card';
import { rateRecords } from '../core/rate-file';

function load<T>(file: string, what: string, parse: (v: unknown) => T): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${what} file ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = parseLosslessJson(text);
  } catch (err) {
    throw new Error(`${what} file ${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  try {
    return parse(json);
  } catch (err) {
    throw new Error(`${what} file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function main(argv: string[]): void {
  const program = new Command('rate')
    .description('Rate usage records offline with the same rules as the usage cycle')
    .requiredOption('--rate-card <file>', 'rate card JSON: {currency, defaultMarkupPercent?, rules[]}')
    .requiredOption('--services <file>', 'services JSON: [{serviceId, tenantId, cancelledOn?}]')
    .requiredOption('--records <file>', 'usage records JSON array, as the carrier returns them')
    .exitOverride();
  try {
    program.parse(argv);
  } catch (err) {
    process.exitCode = (err as { exitCode?: number }).exitCode ?? 2;
    return;
  }
  const opts = program.opts();
  try {
    const card = load(opts.rateCard, 'rate card', parseRateCard);
    const services = load(opts.services, 'services', parseServices);
    const records = load(opts.records, 'records', (v) => {
      if (Array.isArray(v)) return v as unknown[];
      // Tolerate the carrier's page envelope {"Records": [...]} as well as a bare array.
      if (v && typeof v === 'object' && Array.isArray((v as { Records?: unknown }).Records))
        return (v as { Records: unknown[] }).Records;
      throw new Error('must be a JSON array of usage records');
    });
    process.stdout.write(JSON.stringify(rateRecords(card, services, records)) + '\n');
  } catch (err) {
    process.stderr.write(`rate: ${(err as Error).message}\n`);
    process.exitCode = 2;
  }
}

main(process.argv);
