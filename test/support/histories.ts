import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { PROJECT_ROOT } from '../../config';

export const HISTORIES_DIR = path.join(PROJECT_ROOT, 'test', 'fixtures', 'histories');

/**
 * With RECORD_HISTORIES=1, tests save the histories of the workflows they ran, for replay.
 * Re-record (and commit) them whenever a workflow changes on purpose; replay.test.ts then
 * proves every change is compatible with histories recorded before it.
 */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  const History = temporal.api.history.v1.History;
  const json = History.toObject(History.create(history), { longs: String, enums: String, bytes: String });
  writeFileSync(path.join(HISTORIES_DIR, `${name}.json`), JSON.stringify(json));
}

export function loadHistory(json: unknown): temporal.api.history.v1.History {
  return temporal.api.history.v1.History.fromObject(json as Record<string, unknown>);
}
