import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config';
import { freePort } from './support/ports';

// The first Quick start command, as a user runs it: everything started by the project itself.
const dataDir = path.join(PROJECT_ROOT, '.data', `system-test-${process.pid}`);
let env: NodeJS.ProcessEnv;
let system: ChildProcess | undefined;
let stdout = '';
let stderr = '';

before(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  env = {
    ...process.env, DATA_DIR: dataDir, TEMPORAL_PORT: String(await freePort()), TEMPORAL_UI_PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()), SIMULATOR_PORT: String(await freePort()), SIMULATOR_RECORDS: '300', LOG_FORMAT: 'json', LOG_LEVEL: 'info',
  };
  delete env.DATABASE_URL;
  delete env.TEMPORAL_ADDRESS;
  delete env.CYCLE_ONCE;
});

after(async () => {
  if (system && system.exitCode === null) system.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

function csp(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'client/cli.ts', ...args], { cwd: PROJECT_ROOT, env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('the system starts everything itself, runs a cycle at once and prints its summary as one JSON line', async () => {
  system = spawn(process.execPath, ['--import', 'tsx', 'workers/system.ts'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  system.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  system.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 180_000;
  while (!stdout.includes('\n')) {
    if (system.exitCode !== null) assert.fail(`system exited early (${system.exitCode}): ${stderr.slice(-2000)}`);
    if (Date.now() > deadline) assert.fail(`no summary line: ${stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const summary = JSON.parse(stdout.trim().split('\n')[0]!);
  assert.ok(summary.billed > 0);
  assert.ok(summary.quarantined > 0);
  assert.equal(summary.cycles.length, 2);
  assert.match(stderr, /Temporal dev server running/);
  assert.match(stderr, /"webUi":"http:\/\/127\.0\.0\.1:\d+"/);
});

test('the admin CLI works against the running system, with --json and meaningful exit codes', () => {
  const providers = JSON.parse(csp('provider', 'list', '--json').out);
  assert.equal(providers.length, 2);
  const groups = JSON.parse(csp('quarantine', 'list', '--carrier', 'Rhipe - Microsoft', '--reason', 'NON_EXISTENT_SERVICE', '--json').out) as Array<{ group: string; provider: string; lines: number }>;
  assert.ok(groups.length > 0);
  const tenants = JSON.parse(csp('tenant', 'list', '--provider', groups[0]!.provider, '--json').out) as Array<{ service: string }>;
  const allocated = csp('quarantine', 'allocate', groups[0]!.group, '--service', tenants[0]!.service, '--by', 'alice');
  assert.equal(allocated.code, 0, allocated.err);
  assert.match(allocated.out, new RegExp(`billed ${groups[0]!.lines}`));
  const again = csp('quarantine', 'allocate', groups[0]!.group, '--service', tenants[0]!.service, '--by', 'alice');
  assert.equal(again.code, 2);
  assert.match(again.err, /no quarantined lines/);
  assert.equal(csp('quarantine', 'list', '--reason', 'NOT_A_REASON').code, 2);
  assert.equal(csp('quarantine', 'list', '--carrier', 'Telstra', '--json').out.trim(), '[]');
  const swapped = csp('provider', 'add', '--name', 'X', '--client-id', '5d7e3f1209ab4c6a3b56c46cf55d0e1f', '--client-secret', '8db0c1a2-4e5f-4a6b-9c7d-9155086a1e2f');
  assert.equal(swapped.code, 2);
  assert.match(swapped.err, /client_id and client_secret look swapped/);
  assert.ok(!swapped.err.includes('5d7e3f1209ab4c6a3b56c46cf55d0e1f'));
  const schedule = JSON.parse(csp('schedule', 'describe', providers[0].id, '--json').out);
  assert.equal(schedule.overlap, 'BUFFER_ONE');
  assert.equal(csp('schedule', 'pause', providers[0].id, '--note', 'month end').code, 0);
  assert.equal(JSON.parse(csp('schedule', 'describe', providers[0].id, '--json').out).paused, true);
  assert.equal(csp('schedule', 'resume', providers[0].id).code, 0);
  const exported = csp('rates', 'export', providers[0].id);
  assert.equal(exported.code, 0);
  assert.match(exported.out, /"currency": "AUD"/);
  assert.equal(csp('tenant', 'show', 'no-such-tenant').code, 2);
  const cycles = JSON.parse(csp('cycle', 'list', '--json').out);
  assert.ok(cycles.some((c: { status: string }) => c.status === 'COMPLETED'));
});

test('SIGTERM drains the worker and stops everything in order; a second start is safe and bills nothing twice', async () => {
  system!.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => system!.once('exit', (c) => resolve(c)));
  assert.equal(code, 0, stderr.slice(-1500));
  assert.match(stderr, /"state":"DRAINED"/);
  assert.match(stderr, /"msg":"stopped"/);
  const again = spawnSync(process.execPath, ['--import', 'tsx', 'workers/system.ts'], { cwd: PROJECT_ROOT, env: { ...env, CYCLE_ONCE: '1' }, encoding: 'utf8', timeout: 240_000 });
  assert.equal(again.status, 0, again.stderr.slice(-1500));
  const lines = again.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const summary = JSON.parse(lines[0]!);
  assert.equal(summary.billed, 0);
  assert.equal(summary.quarantined, 0);
  assert.equal(summary.duplicatesSkipped, summary.fetched);
});
