import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from './pool';

/**
 * COPY rows into a table, given as text in COPY's text format (db/usage-rows.ts makes it): the
 * cheapest way to hand PostgreSQL many rows, far cheaper to encode and to parse than arrays or a
 * JSON parameter.
 */
export async function copyFromText(db: PoolClient, table: string, columns: readonly string[], rows: CopyRows): Promise<void> {
  await pipeline(Readable.from([rows.bytes()]), db.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`)));
}

/**
 * A table's rows as COPY text, written as UTF-8 bytes as they are made: a page waiting for its
 * save holds one buffer outside the JavaScript heap, not a thousand strings the collector copies.
 * Each row's start is kept, so fixed-width fields at a row's start can be filled in later (ids
 * drawn at save time).
 */
export class CopyRows {
  private buffer: Buffer;
  private used = 0;
  /** Where each row starts, in bytes. */
  readonly starts: number[] = [];

  constructor(expectedBytes = 1 << 16) {
    this.buffer = Buffer.allocUnsafe(expectedBytes);
  }

  get count(): number {
    return this.starts.length;
  }

  /** One whole row, its newline included. */
  add(row: string): void {
    // At most three bytes of UTF-8 per UTF-16 code unit.
    if (this.used + row.length * 3 > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + row.length * 3));
      this.buffer.copy(grown, 0, 0, this.used);
      this.buffer = grown;
    }
    this.starts.push(this.used);
    this.used += this.buffer.write(row, this.used, 'utf8');
  }

  /** Overwrites ASCII text at a byte offset into row `row` (a fixed-width field written there before). */
  fill(row: number, offset: number, ascii: string): void {
    this.buffer.write(ascii, this.starts[row]! + offset, 'latin1');
  }

  /** The ASCII text at a byte offset into row `row`. */
  read(row: number, offset: number, length: number): string {
    const at = this.starts[row]! + offset;
    return this.buffer.toString('latin1', at, at + length);
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.used);
  }
}
