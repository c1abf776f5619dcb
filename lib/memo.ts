/**
 * Memoises a pure function of a string, for the usage pipeline's hot path: the carrier repeats
 * the same dates, prices, ratios and GUIDs on thousands of lines. Bounded: the table is simply
 * emptied when full, so memory stays flat whatever the input.
 */
export function memoByText<T>(fn: (text: string) => T, max = 50_000): (text: string) => T {
  const table = new Map<string, T>();
  return (text) => {
    let value = table.get(text);
    if (value === undefined && !table.has(text)) {
      if (table.size >= max) table.clear();
      // A copy of the key: a text sliced out of a whole carrier page would keep that page alive.
      const key = (' ' + text).slice(1);
      value = fn(key);
      table.set(key, value);
    }
    return value as T;
  };
}

/**
 * Memoises a pure function of a few immutable values by their identity (a Decimal, a string):
 * the carrier's repeated numbers are parsed once into shared Decimal instances (parseDecimalText),
 * so the same price, ratio and quantity arrive as the very same objects, line after line, and a
 * charge is computed once per combination. Bounded like memoByText.
 */
export class MemoByRefs<T> {
  private root = new Map<unknown, unknown>();
  private size = 0;

  constructor(private readonly max = 50_000) {}

  get(keys: readonly unknown[], make: () => T): T {
    let node = this.root;
    const last = keys.length - 1;
    for (let i = 0; i < last; i++) {
      let next = node.get(keys[i]) as Map<unknown, unknown> | undefined;
      if (!next) node.set(keys[i], (next = new Map()));
      node = next;
    }
    if (node.has(keys[last])) return node.get(keys[last]) as T;
    if (this.size >= this.max) {
      this.root = new Map();
      this.size = 0;
      return this.get(keys, make);
    }
    const value = make();
    node.set(keys[last], value);
    this.size++;
    return value;
  }
}
