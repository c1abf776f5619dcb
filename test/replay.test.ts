import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../workers/worker';
import { HISTORIES_DIR, loadHistory } from './support/histories';

// Histories recorded from earlier runs of each workflow (RECORD_HISTORIES=1 npm test) must replay
// against today's workflow code without non-determinism.
const files = readdirSync(HISTORIES_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

test('recorded histories exist for every workflow type', () => {
  for (const type of [
    'usage-cycle',
    'quarantine-group',
    'onboarding',
    'tenant',
    'invoice-reconciliation',
    'alerting',
    'rerate',
  ]) {
    assert.ok(
      files.some((f) => f.startsWith(type)),
      `a recorded ${type} history`,
    );
  }
});

for (const file of files) {
  test(`replay: ${file}`, async () => {
    const history = loadHistory(JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')));
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
  });
}
