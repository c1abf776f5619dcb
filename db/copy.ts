import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from './pool';

/**
 * COPY rows into a table, given as text in COPY's text format (db/usage-rows.ts makes it): the
 * cheapest way to hand PostgreSQL many rows, far cheaper to encode and to parse than arrays or a
 * JSON parameter.
 */
export async function copyFromText(db: PoolClient, table: string, columns: readonly string[], chunks: readonly string[]): Promise<void> {
  await pipeline(Readable.from(chunks), db.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`)));
}

/** Rows' text gathered in bounded chunks (no single huge string for a huge page). */
export class CopyText {
  private readonly done: string[] = [];
  private chunk = '';

  add(rows: string): void {
    this.chunk += rows;
    if (this.chunk.length > 1 << 20) {
      this.done.push(this.chunk);
      this.chunk = '';
    }
  }

  chunks(): string[] {
    return this.chunk ? [...this.done, this.chunk] : this.done;
  }
}
