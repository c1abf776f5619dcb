import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../config';

const FIX = path.join(PROJECT_ROOT, 'test', 'fixtures', 'rate');

function rate(card: string, services: string, records: string) {
  const r = spawnSync(
    'npm',
    ['run', '--silent', 'rate', '--', '--rate-card', card, '--services', services, '--records', records],
    { cwd: PROJECT_ROOT, encoding: 'utf8' },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('rate command: one JSON array, one object per record, in input order', () => {
  const r = rate(path.join(FIX, 'card.json'), path.join(FIX, 'services.json'), path.join(FIX, 'usage.json'));
  assert.equal(r.code, 0, r.stderr);
  const lines = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  assert.deepEqual(
    lines.map((l) => [l.recordId, l.status, l.reason, l.serviceId, l.charge, l.cost]),
    [
      ['r1', 'COMPLETED', null, 'S-1', '1.2097', '1.0161'],
      ['r1', 'DUPLICATE', null, null, null, null],
      ['r2', 'COMPLETED', null, 'S-2', '5.5000', '5.0000'],
      ['r3', 'QUARANTINED', 'SERVICE_INACTIVE', 'S-2', null, null],
      ['r4', 'QUARANTINED', 'NO_RATE_CARD', 'S-1', null, null],
      ['r5', 'COMPLETED', null, 'S-1', '0.0004', '0.0004'],
      ['r6', 'QUARANTINED', 'INVALID_RECORD', null, null, null],
      ['r1', 'QUARANTINED', 'DUPLICATE_USAGE', null, null, null],
    ],
  );
  assert.deepEqual(Object.keys(lines[0]!), ['recordId', 'status', 'reason', 'serviceId', 'charge', 'cost']);
});

test('rate command: a file that cannot be read or parsed exits non-zero naming the file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rate-'));
  const broken = path.join(dir, 'broken.json');
  writeFileSync(broken, '{"currency": "AUD", "rules": [');
  const missing = path.join(dir, 'nope.json');
  for (const [args, file] of [
    [[broken, path.join(FIX, 'services.json'), path.join(FIX, 'usage.json')], broken],
    [[path.join(FIX, 'card.json'), missing, path.join(FIX, 'usage.json')], missing],
    [[path.join(FIX, 'card.json'), path.join(FIX, 'services.json'), broken], broken],
  ] as const) {
    const r = rate(args[0], args[1], args[2]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(r.stderr.includes(file), r.stderr);
  }
});

test('rate command: bad records never stop the run', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rate-'));
  const records = path.join(dir, 'records.json');
  writeFileSync(records, '[null, 42, "text", [], {}, {"RecordId": "x"}]');
  const r = rate(path.join(FIX, 'card.json'), path.join(FIX, 'services.json'), records);
  assert.equal(r.code, 0, r.stderr);
  const lines = JSON.parse(r.stdout) as Array<{ status: string; reason: string }>;
  assert.equal(lines.length, 6);
  assert.ok(lines.every((l) => l.status === 'QUARANTINED' && l.reason === 'INVALID_RECORD'));
});
