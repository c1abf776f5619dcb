import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from './pool';
import { memoByText } from '../lib/memo';

/**
 * COPY rows into a table in COPY's binary format (CopyRows makes it): the cheapest way to hand
 * PostgreSQL many rows. Against the same rows as COPY text, PostgreSQL stored a cycle's lines in
 * 4.1–4.8 s instead of 6.0–6.2 s and its charges in 5.4–6.4 s instead of 7.3–7.6 s: it no longer
 * scans every byte for delimiters and escapes, nor parses numbers out of text.
 */
export async function copyRows(
  db: PoolClient,
  table: string,
  columns: readonly string[],
  rows: CopyRows,
): Promise<void> {
  await pipeline(
    Readable.from([rows.bytes()]),
    db.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN WITH (FORMAT binary)`)),
  );
}

/** Scratch for numericParts' base-10000 digits (grown when a number needs more). */
let digitGroups = new Uint16Array(64);

/** The binary format's signature, flags (none) and header extension length (none). */
const HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);

/** Memory given back by sent rows (CopyRows.recycle), a page's worth or two per save in flight. */
const spare: ArrayBuffer[] = [];
const SPARE_BUFFERS = 8;

/** The smallest spare that holds `bytes`, else new memory. */
function spareBuffer(bytes: number): Buffer {
  let best = -1;
  for (let i = 0; i < spare.length; i++)
    if (spare[i]!.byteLength >= bytes && (best === -1 || spare[i]!.byteLength < spare[best]!.byteLength)) best = i;
  if (best === -1) return Buffer.allocUnsafe(bytes);
  const [memory] = spare.splice(best, 1);
  return Buffer.from(memory!);
}

/** CopyRows as plain data, for a message to another thread. */
export interface CopyRowsData {
  /** The buffer, written up to `used`. */
  bytes: Uint8Array;
  used: number;
  starts: number[];
}

/**
 * A table's rows in COPY's binary format, written as bytes as they are made: a page waiting for
 * its save holds one buffer outside the JavaScript heap, not a thousand strings the collector
 * copies. Each row's start is kept, so a fixed-width field written early in a row (a bigint, a
 * text of known length) can be filled in later: ids drawn at save time.
 */
export class CopyRows {
  private buffer: Buffer;
  private used = 0;
  /** Where each row starts, in bytes (at its field count). */
  private readonly starts: number[] = [];

  constructor(expectedBytes = 1 << 16) {
    this.buffer = spareBuffer(Math.max(expectedBytes, HEADER.length + 2));
    this.used = HEADER.copy(this.buffer, 0);
  }

  /**
   * Rows sent and committed give their memory back for the next page's rows (recycle): a page's
   * megabyte and a half is not allocated afresh, nor left to linger until a collection.
   */
  static recycle(memory: ArrayBuffer): void {
    if (spare.length < SPARE_BUFFERS && memory.byteLength > 0) spare.push(memory);
  }

  /** This instance's memory, when it is its own (recycle); the instance must not be used afterwards. */
  ownMemory(): ArrayBuffer | null {
    const b = this.buffer;
    return b.byteOffset === 0 && b.buffer instanceof ArrayBuffer && b.buffer.byteLength === b.length ? b.buffer : null;
  }

  get count(): number {
    return this.starts.length;
  }

  /**
   * The rows as plain data another thread can take (db/page-saver.ts): the bytes and where each
   * row starts. The bytes are handed over, not copied, where they fill their own memory: this
   * instance must not be used afterwards.
   */
  handOver(): { rows: CopyRowsData; transfer: ArrayBuffer[] } {
    const bytes = new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
    const own = this.ownMemory();
    return { rows: { bytes, used: this.used, starts: this.starts }, transfer: own ? [own] : [] };
  }

  /** Rows handed over by another thread (handOver), to be filled in and sent. */
  static takeOver(data: CopyRowsData): CopyRows {
    const rows = new CopyRows(0);
    rows.buffer = Buffer.from(data.bytes.buffer, data.bytes.byteOffset, data.bytes.byteLength);
    rows.used = data.used;
    for (const start of data.starts) rows.starts.push(start);
    return rows;
  }

  /** Starts a row of `fields` fields; each is then written in column order. */
  row(fields: number): void {
    this.room(2);
    this.starts.push(this.used);
    this.used = this.buffer.writeInt16BE(fields, this.used);
  }

  /** A text field (null: SQL NULL), as UTF-8. */
  text(value: string | null | undefined): void {
    if (value === null || value === undefined) return this.nullField();
    // At most three bytes of UTF-8 per UTF-16 code unit.
    this.room(4 + value.length * 3);
    const length = this.buffer.write(value, this.used + 4, 'utf8');
    this.buffer.writeInt32BE(length, this.used);
    this.used += 4 + length;
  }

  /**
   * A text field whose value recurs from row to row (a service, a tenant, a date): encoded once,
   * then copied. A call into the encoder costs more than the copy for a few bytes.
   */
  repeated(value: string | null | undefined): void {
    if (value === null || value === undefined) return this.nullField();
    this.encoded(recurringField(value));
  }

  /** A field already encoded (field()): a page's constant texts, encoded once for all its rows. */
  encoded(field: Buffer): void {
    this.room(field.length);
    this.buffer.set(field, this.used);
    this.used += field.length;
  }

  /** A bigint field, zero until filled in (fillBigint). */
  bigint(): void {
    this.room(12);
    this.used = this.buffer.writeInt32BE(8, this.used);
    this.used = this.buffer.writeUInt32BE(0, this.used);
    this.used = this.buffer.writeUInt32BE(0, this.used);
  }

  /**
   * A numeric field from a plain decimal text (null: SQL NULL), encoded straight into the row: for
   * values that seldom repeat, such as a line's SubTotal, where numericField's table of texts seen
   * would miss and churn on nearly every line.
   */
  decimal(value: string | null | undefined): void {
    if (value === null || value === undefined) return this.nullField();
    const numeric = numericParts(value);
    this.room(12 + 2 * numeric.ndigits);
    this.used = writeNumeric(this.buffer, this.buffer.writeInt32BE(8 + 2 * numeric.ndigits, this.used), numeric);
  }

  /** Writes a bigint at byte `offset` of row `row` (where a bigint field's value was written). */
  fillBigint(row: number, offset: number, value: number): void {
    // As two 32-bit halves: a BigInt per id cost more than the rest of the row's numbers.
    if (!Number.isSafeInteger(value) || value < 0)
      throw new Error(`a row id must be a non-negative safe integer, not ${value}`);
    const at = this.starts[row]! + offset;
    this.buffer.writeUInt32BE(Math.floor(value / 2 ** 32), at);
    this.buffer.writeUInt32BE(value >>> 0, at + 4);
  }

  /** Overwrites ASCII text at byte `offset` of row `row` (a text field of that length written there before). */
  fillAscii(row: number, offset: number, ascii: string): void {
    this.buffer.write(ascii, this.starts[row]! + offset, 'latin1');
  }

  /** The ASCII text at byte `offset` of row `row`. */
  readAscii(row: number, offset: number, length: number): string {
    const at = this.starts[row]! + offset;
    return this.buffer.toString('latin1', at, at + length);
  }

  /** The whole COPY data: header, rows and trailer. */
  bytes(): Buffer {
    this.room(2);
    this.buffer.writeInt16BE(-1, this.used);
    return this.buffer.subarray(0, this.used + 2);
  }

  private nullField(): void {
    this.room(4);
    this.used = this.buffer.writeInt32BE(-1, this.used);
  }

  private room(bytes: number): void {
    // Two more for the trailer.
    if (this.used + bytes + 2 <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + bytes + 2));
    this.buffer.copy(grown, 0, 0, this.used);
    this.buffer = grown;
  }
}

/** A text field (null: SQL NULL) encoded, its length first, for CopyRows.encoded. */
export function field(value: string | null): Buffer {
  return value === null ? Buffer.from([0xff, 0xff, 0xff, 0xff]) : lengthFirst(Buffer.from(value, 'utf8'));
}

function lengthFirst(bytes: Buffer): Buffer {
  const encoded = Buffer.allocUnsafe(4 + bytes.length);
  encoded.writeInt32BE(bytes.length, 0);
  bytes.copy(encoded, 4);
  return encoded;
}

const recurringField = memoByText(field, 20_000);

/**
 * A plain decimal text (`-12.50`, no exponent) as PostgreSQL's binary numeric: digit count,
 * weight, sign and display scale, then base-10000 digits. Exact: the digits are the text's own.
 */
export function numericBinary(text: string): Buffer {
  const numeric = numericParts(text);
  const bytes = Buffer.allocUnsafe(8 + 2 * numeric.ndigits);
  writeNumeric(bytes, 0, numeric);
  return bytes;
}

/** A plain decimal text's binary numeric header; its base-10000 digits are digitGroups[first, first + ndigits). */
interface NumericParts {
  ndigits: number;
  first: number;
  weight: number;
  negative: boolean;
  dscale: number;
}

/** Reads a plain decimal text into digitGroups (shared scratch: used before the next call). */
function numericParts(text: string): NumericParts {
  const len = text.length;
  const negative = text.charCodeAt(0) === 45; /* - */
  let start = negative ? 1 : 0;
  const point = text.indexOf('.', start);
  const intEnd = point === -1 ? len : point;
  const fracStart = point === -1 ? len : point + 1;
  // Digits before the point, and after it when there is one ("1." and ".5" are not plain).
  let plain = intEnd > start && (point === -1 || fracStart < len);
  for (let k = start; plain && k < len; k++) {
    const c = text.charCodeAt(k);
    if (!((c >= 48 && c <= 57) || k === point)) plain = false;
  }
  if (!plain) throw new Error(`not a plain decimal number: ${JSON.stringify(text)}`);
  while (start < intEnd && text.charCodeAt(start) === 48) start++;
  const intLen = intEnd - start;
  const dscale = len - fracStart;
  // Base-10000 digits: the integer part padded on the left to whole groups, the fraction on the right.
  const lead = (4 - (intLen % 4)) % 4;
  const groups = (lead + intLen) / 4 + Math.ceil(dscale / 4);
  let first = -1;
  let last = -1;
  if (digitGroups.length < groups) digitGroups = new Uint16Array(groups * 2);
  for (let g = 0; g < groups; g++) {
    let d = 0;
    for (let k = g * 4; k < g * 4 + 4; k++) {
      const at =
        k < lead
          ? -1
          : k < lead + intLen
            ? start + k - lead
            : k - lead - intLen < dscale
              ? fracStart + k - lead - intLen
              : -1;
      d = d * 10 + (at === -1 ? 0 : text.charCodeAt(at) - 48);
    }
    digitGroups[g] = d;
    if (d !== 0) {
      if (first === -1) first = g;
      last = g;
    }
  }
  const ndigits = first === -1 ? 0 : last - first + 1;
  return {
    ndigits,
    first,
    weight: ndigits === 0 ? 0 : (lead + intLen) / 4 - 1 - first,
    negative: negative && ndigits > 0,
    dscale,
  };
}

/** Writes a numeric's header and digits at `at` (room for 8 + 2 × ndigits bytes); returns where it ends. */
function writeNumeric(buffer: Buffer, at: number, n: NumericParts): number {
  at = buffer.writeInt16BE(n.ndigits, at);
  at = buffer.writeInt16BE(n.weight, at);
  at = buffer.writeUInt16BE(n.negative ? 0x4000 : 0, at);
  at = buffer.writeUInt16BE(n.dscale, at);
  for (let g = 0; g < n.ndigits; g++) at = buffer.writeUInt16BE(digitGroups[n.first + g]!, at);
  return at;
}

/** A numeric field from a plain decimal text, its length first. Memoised: the carrier repeats its prices, quantities and ratios on thousands of lines. */
export const numericField = memoByText((text: string) => lengthFirst(numericBinary(text)));
