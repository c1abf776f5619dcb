/** A GUID as the carrier writes them (any case): the one pattern; zod schemas use it too. */
export const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: unknown): value is string {
  // The length test first: most strings checked (names, dates) are not 36 long.
  return typeof value === 'string' && value.length === 36 && GUID_PATTERN.test(value);
}

/** GUIDs compare case-insensitively; this is the one normal form we store and compare. */
export function normalizeGuid(value: string): string {
  return value.toLowerCase();
}

export function sameGuid(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
