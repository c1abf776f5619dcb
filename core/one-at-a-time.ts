/**
 * Runs async work one piece at a time, in the order it was handed in: each starts once the one
 * before it has settled, whether it succeeded or failed. Deterministic (only promise chaining), so
 * workflows use it to order their handlers' work.
 */
export class OneAtATime {
  private last: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const run = this.last.then(work);
    this.last = run.catch(() => undefined);
    return run;
  }
}
