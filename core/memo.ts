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
