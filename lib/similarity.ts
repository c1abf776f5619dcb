/** A name made ready for comparing: normalised, and its letter pairs counted. */
export interface PreparedName {
  norm: string;
  pairs: Map<string, number>;
}

export function prepareName(s: string): PreparedName {
  const norm = s
    .toLowerCase()
    .replace(/\.onmicrosoft\.com$/, '')
    .replace(/\b(pty|ltd|limited|inc|co|nz|au)\b/g, '')
    .replace(/[^a-z0-9]/g, '');
  const pairs = new Map<string, number>();
  for (let i = 0; i < norm.length - 1; i++) pairs.set(norm.slice(i, i + 2), (pairs.get(norm.slice(i, i + 2)) ?? 0) + 1);
  return { norm, pairs };
}

/** `similarity` of two prepared names (one side prepared once, compared with many). */
export function preparedSimilarity(x: PreparedName, y: PreparedName): number {
  if (!x.norm || !y.norm) return 0;
  if (x.norm === y.norm) return 1;
  let common = 0;
  for (const [k, n] of x.pairs) common += Math.min(n, y.pairs.get(k) ?? 0);
  const total = Math.max(1, x.norm.length - 1 + y.norm.length - 1);
  return (2 * common) / total;
}

/** Dice coefficient over letter pairs: how alike two names are, 0..1 ("contosodental" ~ "Contoso Dental Pty"). */
export function similarity(a: string, b: string): number {
  return preparedSimilarity(prepareName(a), prepareName(b));
}
