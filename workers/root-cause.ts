/** The deepest message of a failure's cause chain (workflow → activity → application failure). */
export function rootCause(err: unknown): string {
  let e = err as (Error & { cause?: unknown }) | undefined;
  while (e?.cause instanceof Error) e = e.cause;
  return e?.message ?? String(err);
}
