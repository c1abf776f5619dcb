/** Stateless, deterministic pseudo-randomness: the same (seed, parts) always gives the same number. */
export function hash32(seed: number, ...parts: number[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/** hash32(seed, a, b, c) without the rest-parameter array: the simulator's per-line hot path. */
export function hash3(seed: number, a: number, b: number, c: number): number {
  return mixWord(mixWord(mixWord((seed ^ 0x9e3779b9) >>> 0, a), b), c);
}

/** One more part into a hash32 state: hash32(seed, a, b, c, k) is mixWord(hash3(seed, a, b, c), k). */
export function mixWord(h: number, p: number): number {
  h = Math.imul(h ^ (p >>> 0), 0x85ebca6b) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export function pick<T>(items: readonly T[], h: number): T {
  return items[h % items.length]!;
}

/** A GUID derived from the seed and a name, stable across runs. */
export function guidFor(seed: number, ...parts: number[]): string {
  const words = [0, 1, 2, 3].map((k) =>
    hash32(seed, ...parts, k)
      .toString(16)
      .padStart(8, '0'),
  );
  const hex = words.join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function stringCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) >>> 0;
  return h;
}
