/**
 * Carrier failures only an admin can fix: wrong credentials (INVALID_CLIENT) or a provider not
 * permitted the call (FORBIDDEN). Retrying cannot help; the provider is flagged NEEDS_ATTENTION
 * until its next successful cycle or a credentials update.
 */
const ADMIN_FIXES = new Set(['INVALID_CLIENT', 'FORBIDDEN']);

/** `code` is a CarrierError code, or the type of the ApplicationFailure an activity turned it into. */
export function needsAdminAttention(code: string | null | undefined): boolean {
  return code !== null && code !== undefined && ADMIN_FIXES.has(code);
}
