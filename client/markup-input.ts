import { createInterface } from 'node:readline/promises';
import { RateEditError, checkMarkupInput, negativeMarkupProblem } from './rate-changes';
import { UserError } from './errors';

/** A provider's first default markup: a percent (not negative: that needs rates default-markup --allow-negative) or "none". */
export function checkProviderMarkup(percent: string): string {
  try {
    const value = checkMarkupInput(percent);
    const negative = value === null ? null : negativeMarkupProblem(value);
    if (negative)
      throw new RateEditError(
        negative.replace(
          ' with --allow-negative',
          ' with `rates default-markup … --allow-negative` once the provider is added',
        ),
      );
  } catch (err) {
    if (err instanceof RateEditError) throw new UserError(`--default-markup: ${err.message}`);
    throw err;
  }
  return percent.trim();
}

/** Asked for on a terminal when --default-markup is absent, until the answer is a percent or "none". */
export async function askDefaultMarkup(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<string> {
  const rl = createInterface({ input, output });
  // Ctrl-C or the end of input at the question stops here, before anything is stored (readline
  // would only pause, or leave the question unanswered).
  const stop = new AbortController();
  rl.on('SIGINT', () => stop.abort());
  rl.on('close', () => stop.abort());
  try {
    for (;;) {
      const answer = (
        await rl
          .question(
            'Default markup % over the carrier cost for products without a rate rule ("none" to quarantine them as NO_RATE_CARD): ',
            { signal: stop.signal },
          )
          .catch((err: Error) => {
            throw err.name === 'AbortError'
              ? new UserError('stopped at the default markup question: nothing was added')
              : err;
          })
      ).trim();
      try {
        return checkProviderMarkup(answer);
      } catch (err) {
        output.write(`${(err as Error).message}\n`);
      }
    }
  } finally {
    rl.close();
  }
}
