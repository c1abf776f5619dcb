import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { localTemporal } from './support/temporal';
import { startTestSystem, type TestSystem } from './support/system';
import { runUsageCycleNow } from '../workflows/usage-cycle.api';
import { rotateSecrets } from '../client/providers';

let env: TestWorkflowEnvironment;
let sys: TestSystem;

before(async () => {
  env = await localTemporal();
  sys = await startTestSystem(env, { usageRecords: 200, tokenTtlSeconds: 61 });
});
after(async () => {
  await sys?.stop();
  await env?.teardown();
});

/** Every string in a value, with byte arrays (payload data) decoded as UTF-8 and as base64 text. */
function strings(value: unknown, out: string[] = []): string[] {
  if (value === null || value === undefined) return out;
  if (typeof value === 'string') out.push(value);
  else if (value instanceof Uint8Array) {
    out.push(Buffer.from(value).toString('utf8'), Buffer.from(value).toString('base64'));
  } else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (typeof value === 'object') Object.values(value as Record<string, unknown>).forEach((v) => strings(v, out));
  return out;
}

test('after onboarding, a cycle, a rotation and a failure: no client secret or bearer token in logs, histories or the database', async () => {
  const p = sys.sim.dataset.providers[0]!;
  const provider = await sys.onboardSimProvider(0);
  await runUsageCycleNow({ temporal: env.client, taskQueue: sys.taskQueue }, { providerId: provider.id }, 'scan-cycle');
  await rotateSecrets(sys.ctx);
  // A failing cycle too: errors are where secrets usually leak.
  sys.sim.faults.set([{ endpoint: 'token', kind: 'http400', times: 100 }]);
  const { clearTokenCache } = await import('../carrier/client.js');
  clearTokenCache();
  await assert.rejects(
    runUsageCycleNow(
      { temporal: env.client, taskQueue: sys.taskQueue },
      { providerId: provider.id },
      'scan-cycle-failing',
    ),
    WorkflowFailedError,
    'the failing cycle must fail, or the error path is not scanned',
  );
  sys.sim.faults.clear();

  const secrets = [p.clientSecret, ...sys.sim.stats.issuedTokens];
  assert.ok(sys.sim.stats.issuedTokens.length >= 1);

  // Logs.
  const logs = sys.logs.text();
  assert.ok(sys.logs.lines.length > 0, 'something was logged');
  for (const s of secrets) assert.ok(!logs.includes(s), 'a secret in the logs');

  // Every workflow history, payloads decoded.
  let histories = 0;
  for await (const wf of env.client.workflow.list()) {
    const history = await env.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    const text = strings(history).join('\n');
    for (const s of secrets) assert.ok(!text.includes(s), `a secret in the history of ${wf.workflowId}`);
    histories++;
  }
  assert.ok(histories >= 3, `scanned ${histories} histories`);

  // The whole database, every row of every table, as text.
  const tables = await sys.db.pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
  );
  let dump = '';
  for (const t of tables.rows) {
    const rows = await sys.db.pool.query(`SELECT t::text AS row FROM "${t.table_name}" t`);
    dump += rows.rows.map((r) => r.row).join('\n');
  }
  assert.ok(dump.length > 10_000);
  for (const s of secrets) assert.ok(!dump.includes(s), 'a secret in the database');
  // The secret is there, encrypted: it decrypts to the original.
  const sealed = (
    await sys.db.pool.query<{ secret_ciphertext: string }>('SELECT secret_ciphertext FROM provider WHERE id = $1', [
      provider.id,
    ])
  ).rows[0]!.secret_ciphertext;
  assert.match(sealed, /^v1:test:/);
  assert.equal(sys.deps.keyring.decrypt(sealed), p.clientSecret);
});
