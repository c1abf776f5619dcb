import { ApplicationFailure } from '@temporalio/activity';
import { CarrierError } from '../carrier/errors';

/** Turns a carrier error into the ApplicationFailure Temporal's retry policy understands. */
export function toFailure(err: unknown): unknown {
  if (err instanceof CarrierError) {
    return ApplicationFailure.create({
      type: err.code,
      message: err.message,
      nonRetryable: !err.retryable,
      // 429: come back when the carrier said to, not on our own backoff.
      nextRetryDelay: err.retryAfterMs !== undefined ? Math.max(err.retryAfterMs, 100) : undefined,
      details: [{ endpoint: err.endpoint, status: err.status ?? null }],
    });
  }
  return err;
}

export async function classified<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toFailure(err);
  }
}
