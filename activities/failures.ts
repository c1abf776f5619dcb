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
  return dataErrorFailure(err) ?? err;
}

/**
 * A data error (SQLSTATE class 22 or 23) as a non-retryable failure carrying its reason and
 * SQLSTATE, e.g. "cleanse of …: numeric field overflow (SQLSTATE 22003)"; null for anything else.
 * The same statement with the same values fails the same way: retrying only hides it (and, for
 * lines waiting half-way, keeps them stuck).
 */
export function dataErrorFailure(err: unknown, what?: string): ApplicationFailure | null {
  const sqlState = postgresDataErrorCode(err);
  if (!sqlState) return null;
  const reason = (err as Error).message;
  return ApplicationFailure.create({
    type: `POSTGRES_${sqlState}`,
    message: `${what ? `${what}: ` : ''}${reason} (SQLSTATE ${sqlState})`,
    nonRetryable: true,
    details: [{ sqlState, reason }],
  });
}

/**
 * SQLSTATE classes 22 (data exception: an impossible date, a number out of range) and 23
 * (integrity constraint violation): the input is wrong, not the moment.
 */
export function postgresDataErrorCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code) ? code : null;
}

export async function classified<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toFailure(err);
  }
}
