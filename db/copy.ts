import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from './pool';

/**
 * COPY rows into a table (text format): the cheapest way to hand PostgreSQL many rows, far
 * cheaper to encode and to parse than arrays or a JSON parameter. null is SQL NULL.
 */
export async function copyRows(db: PoolClient, table: string, columns: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | null>>): Promise<void> {
  await pipeline(Readable.from(copyChunks(rows)), db.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`)));
}

/** Rows in COPY's text format, in bounded chunks (no single huge string for a huge page). */
function copyChunks(rows: ReadonlyArray<ReadonlyArray<string | null>>): string[] {
  const chunks: string[] = [];
  let chunk = '';
  for (const row of rows) {
    let line = '';
    for (let c = 0; c < row.length; c++) {
      const v = row[c];
      line += (c === 0 ? '' : '\t') + (v === null || v === undefined ? '\\N' : copyText(v));
    }
    chunk += line + '\n';
    if (chunk.length > 1 << 20) {
      chunks.push(chunk);
      chunk = '';
    }
  }
  if (chunk) chunks.push(chunk);
  return chunks;
}

const SPECIAL = /[\\\t\n\r]/;

/** COPY's text format escapes backslash, tab, newline and carriage return. */
export function copyText(v: string): string {
  if (!SPECIAL.test(v)) return v;
  return v.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}
