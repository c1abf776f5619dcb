import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { localTemporal } from './support/temporal';
import { startTestSystem, type TestSystem } from './support/system';
import { runUsageCycleNow } from '../workflows/usage-cycle.api';

/**
 * A RecordId on the last line of one carrier page, and again on the first lines of the next (once
 * revised, once repeated exactly). The cycle looks up the next page's stored versions while the
 * page before it is still being decided or saved, so that page's lines must come from memory:
 * the revision is still DUPLICATE_USAGE and the repeat still a repeat, never billed twice.
 */

const PAGE = 10;
const BOUNDARIES = 15;

let env: TestWorkflowEnvironment;
let sys: TestSystem;

before(async () => {
  env = await localTemporal();
  // The generated lines fill exactly the first page; the lines below follow from the second.
  sys = await startTestSystem(env, { usageRecords: PAGE, pageSize: PAGE });
});
after(async () => {
  await sys?.stop();
  await env?.teardown();
});

test("a revision and an exact repeat on the page after their line's page are found while that page is still being saved", async () => {
  const dataset = sys.sim.dataset;
  const billedIndex = Array.from({ length: PAGE }, (_, i) => i).find((i) => dataset.expectedOutcome(0, i) === 'BILLED');
  assert.notEqual(billedIndex, undefined, 'the generated page has a billable line to copy');
  const template = dataset.usageLineJson(0, billedIndex!);
  const withRecordId = (text: string, id: string) => text.replace(/"RecordId":"[^"]*"/, `"RecordId":"${id}"`);
  const revised = (text: string) => text.replace(/"Quantity":(\d+)/, (_, q: string) => `"Quantity":${Number(q) + 1}`);
  assert.notEqual(revised(template), template, 'the template has a Quantity to revise');

  const extra = dataset.providers[0]!.extraLines;
  const straddling: string[] = [];
  for (let b = 0; b < BOUNDARIES; b++) {
    const id = randomUUID();
    straddling.push(id);
    const original = withRecordId(template, id);
    // Page b: fillers, then the original as its last line. Page b + 1 opens with its revision and
    // its exact repeat (the next boundary's page then continues with fillers).
    while (extra.length % PAGE !== PAGE - 1) extra.push(withRecordId(template, randomUUID()));
    extra.push(original);
    extra.push(revised(original), original);
  }
  while (extra.length % PAGE !== 0) extra.push(withRecordId(template, randomUUID()));

  const provider = await sys.onboardSimProvider(0);
  // Missed, they would still not be billed twice (UNIQUE refuses the page and a retry decides it
  // again), but only after retries: the bound turns that into a failure rather than a long wait.
  const workflowId = `page-boundary-${provider.id}`;
  const summary = await runUsageCycleNow(
    { temporal: env.client, taskQueue: sys.taskQueue },
    { providerId: provider.id },
    workflowId,
    '2 minutes',
  );
  assert.equal(summary.fetched, PAGE + extra.length);
  // Every activity got through at its first attempt: no page was refused as stored meanwhile.
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const attempts = history.events!.flatMap((e) =>
    e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 1] : [],
  );
  assert.ok(attempts.length > 0);
  assert.deepEqual(
    attempts.filter((a) => a !== 1),
    [],
    'retried activity attempts',
  );

  const lines = await sys.db.pool.query<{ record_key: string; status: string; reason: string | null }>(
    `SELECT record_key, status, reason FROM usage_line WHERE provider_id = $1 AND record_key = ANY($2::text[]) ORDER BY id`,
    [provider.id, straddling],
  );
  const charges = await sys.db.pool.query<{ record_key: string; units: string }>(
    `SELECT record_key, units::text FROM usage_charge WHERE provider_id = $1 AND record_key = ANY($2::text[])`,
    [provider.id, straddling],
  );
  const units = /"Quantity":(\d+)/.exec(template)![1]!;
  for (const id of straddling) {
    const stored = lines.rows.filter((l) => l.record_key === id);
    // The exact repeat is not stored again; the original is billed, the revision quarantined.
    assert.deepEqual(
      stored.map((l) => [l.status, l.reason]),
      [
        ['COMPLETED', null],
        ['QUARANTINED', 'DUPLICATE_USAGE'],
      ],
      `RecordId ${id}`,
    );
    assert.deepEqual(
      charges.rows.filter((c) => c.record_key === id).map((c) => c.units),
      [units],
      `RecordId ${id} billed once, as first received`,
    );
  }
  assert.ok(summary.duplicatesSkipped >= BOUNDARIES, `repeats skipped: ${summary.duplicatesSkipped}`);
  assert.ok((summary.quarantinedByReason.DUPLICATE_USAGE ?? 0) >= BOUNDARIES);
});
