/** Dice coefficient over letter pairs: how alike two names are, 0..1 ("contosodental" ~ "Contoso Dental Pty"). */
export function similarity(a: string, b: string): number {
  const norm = (s: string) => s.toLowerCase().replace(/\.onmicrosoft\.com$/, '').replace(/\b(pty|ltd|limited|inc|co|nz|au)\b/g, '').replace(/[^a-z0-9]/g, '');
  const x = norm(a);
  const y = norm(b);
  if (!x || !y) return 0;
  if (x === y) return 1;
  const pairs = (s: string) => {
    const m = new Map<string, number>();
    for (let i = 0; i < s.length - 1; i++) m.set(s.slice(i, i + 2), (m.get(s.slice(i, i + 2)) ?? 0) + 1);
    return m;
  };
  const px = pairs(x);
  const py = pairs(y);
  let common = 0;
  for (const [k, n] of px) common += Math.min(n, py.get(k) ?? 0);
  const total = Math.max(1, x.length - 1 + y.length - 1);
  return (2 * common) / total;
}
