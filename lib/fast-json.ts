import { parseLosslessJson, SharedNumber, stringifyLossless } from './lossless';

/**
 * Number-preserving JSON parsing at close to native speed, for the carrier's usage pages.
 *
 * One pass over the text skips strings (native indexOf) and collects the exact text of every
 * number token, in document order; the native JSON.parse then does the real parsing (and every
 * syntax check), and a walk over the result in document order replaces each number with a
 * LosslessNumber holding its collected text. No number ever passes through a binary float: the
 * doubles JSON.parse made are only counted, never read. The carrier repeats its prices, quantities
 * and ratios on thousands of lines: a number's text seen recently gives the very same (immutable)
 * SharedNumber again, found by a hash taken while scanning, so a repeated number makes no object
 * and its Decimal is worked out once (lib/lossless.ts jsonNumberToDecimal).
 *
 * Document order is what the walk sees as long as no key looks like an array index (JavaScript
 * lists those first) and no key is repeated (JSON.parse keeps the last silently, lossless-json
 * refuses). Anything the fast path cannot vouch for is parsed by lossless-json instead, so the
 * result, and every error, is exactly what parseLosslessJson gives.
 */
export interface NumberPreservingParse {
  value: unknown;
  /**
   * The exact text of each element of the top-level object's `arrayKey` array, as received
   * (null when the value has no such array).
   */
  elementTexts: string[] | null;
}

// Written as the escape: a raw control character is not allowed inside a JSON string.
/** `arrayKey` null: no element texts are wanted (a single record, say). */
export function parseNumberPreserving(text: string, arrayKey: string | null = 'Records'): NumberPreservingParse {
  const fast = scanAndParse(text, arrayKey);
  if (fast) return fast;
  const value = parseLosslessJson(text);
  return { value, elementTexts: elementTextsOf(value, arrayKey) };
}

function scanAndParse(text: string, arrayKey: string | null): NumberPreservingParse | null {
  const n = text.length;
  const numbers: SharedNumber[] = [];
  let depth = 0;
  let colons = 0;
  let lastString = '';
  let keyAtDepth1: string | null = null;
  let inArray = false;
  let elementStart = 0;
  let elements: string[] | null = null;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      let j = text.indexOf('"', i + 1);
      while (j !== -1 && isEscaped(text, j)) j = text.indexOf('"', j + 1);
      if (j === -1) return null; // unterminated: the full parser reports it
      if (depth === 1) lastString = text.slice(i + 1, j);
      i = j + 1;
    } else if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      let j = i + 1;
      let h = c;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (!((d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45)) break;
        h = (Math.imul(h, 31) + d) | 0;
      }
      const number = sharedNumber(text, i, j, h);
      if (number === null) return null; // not a number: the full parser reports it
      numbers.push(number);
      i = j;
    } else {
      if (c === 123 /* { */ || c === 91 /* [ */) {
        depth++;
        if (c === 91 && depth === 2 && arrayKey !== null && keyAtDepth1 === arrayKey) {
          inArray = true;
          elements = [];
          elementStart = i + 1;
        }
      } else if (c === 125 /* } */ || c === 93 /* ] */) {
        if (inArray && depth === 2) {
          const element = text.slice(elementStart, i).trim();
          if (element !== '') elements!.push(element);
          inArray = false;
        }
        depth--;
      } else if (c === 58 /* : */) {
        colons++;
        if (depth === 1) keyAtDepth1 = lastString;
      } else if (c === 44 /* , */) {
        if (inArray && depth === 2) {
          elements!.push(text.slice(elementStart, i).trim());
          elementStart = i + 1;
        }
        if (depth === 1) keyAtDepth1 = null;
      }
      i++;
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null; // the full parser gives the error, with its position
  }
  const walk = { numbers, next: 0, keys: 0 };
  try {
    value = revive(value, walk);
  } catch {
    return null;
  }
  // Fewer keys than colons: a repeated key, which JSON.parse merged silently.
  if (walk.keys !== colons || walk.next !== numbers.length) return null;
  const array =
    arrayKey !== null && value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)[arrayKey]
      : undefined;
  if (!Array.isArray(array)) return { value, elementTexts: null };
  // Several arrays under the key (a repeated key) were caught above; this guards the spans.
  if (!elements || elements.length !== array.length) return null;
  return { value, elementTexts: elements };
}

// Recent numbers by the hash of their text, one per slot (a collision replaces): small enough to
// stay in the CPU's cache, which a Map of every text seen would not.
const RECENT_SLOTS = 4096;
const recentHashes = new Int32Array(RECENT_SLOTS);
const recentNumbers: Array<SharedNumber | undefined> = new Array<SharedNumber | undefined>(RECENT_SLOTS).fill(
  undefined,
);

/** The number token text[from, to) with hash `h`: the recent instance of its text, else a new one (null: not a number). */
function sharedNumber(text: string, from: number, to: number, h: number): SharedNumber | null {
  const slot = h & (RECENT_SLOTS - 1);
  const recent = recentNumbers[slot];
  if (
    recent !== undefined &&
    recentHashes[slot] === h &&
    recent.value.length === to - from &&
    text.startsWith(recent.value, from)
  )
    return recent;
  let made: SharedNumber;
  try {
    // A copy of the text: a slice would keep the whole page alive.
    made = new SharedNumber((' ' + text.slice(from, to)).slice(1));
  } catch {
    return null;
  }
  recentHashes[slot] = h;
  recentNumbers[slot] = made;
  return made;
}

function isEscaped(text: string, quote: number): boolean {
  let k = quote - 1;
  while (text.charCodeAt(k) === 92 /* \ */) k--;
  return (quote - 1 - k) % 2 === 1;
}

class NotInDocumentOrder extends Error {}

function revive(v: unknown, walk: { numbers: SharedNumber[]; next: number; keys: number }): unknown {
  if (typeof v === 'number') return numberAt(walk);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let k = 0; k < v.length; k++) {
      const x: unknown = v[k];
      if (typeof x === 'number') v[k] = numberAt(walk);
      else if (x !== null && typeof x === 'object') revive(x, walk);
    }
    return v;
  }
  const o = v as Record<string, unknown>;
  for (const key in o) {
    walk.keys++;
    // A key that looks like an array index is listed first, out of document order.
    const c0 = key.charCodeAt(0);
    if (c0 >= 48 && c0 <= 57) throw new NotInDocumentOrder();
    const x = o[key];
    if (typeof x === 'number') {
      // An own "__proto__" key must stay a plain property, never set the prototype.
      if (key === '__proto__')
        Object.defineProperty(o, key, { value: numberAt(walk), writable: true, enumerable: true, configurable: true });
      else o[key] = numberAt(walk);
    } else if (x !== null && typeof x === 'object') revive(x, walk);
  }
  return o;
}

function numberAt(walk: { numbers: SharedNumber[]; next: number }): SharedNumber {
  const number = walk.numbers[walk.next++];
  if (number === undefined) throw new NotInDocumentOrder();
  return number;
}

function elementTextsOf(value: unknown, arrayKey: string | null): string[] | null {
  const array =
    arrayKey !== null && value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)[arrayKey]
      : undefined;
  if (!Array.isArray(array)) return null;
  // The slow path (rare): the element's lossless text, numbers exact.
  return array.map((e) => stringifyLossless(e));
}
