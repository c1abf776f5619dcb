import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, loadConfig } from '../config';
import { keyringFromConfig } from '../config/secrets';
import { embeddedUrlFor, startEmbeddedPostgres } from '../db/embedded';
import { verifyKeyring } from '../db/encryption-keys';
import { createPool } from '../db/pool';
import { listProviders, updateProviderSecret, type ProviderView } from '../db/providers';
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
    ...process.env,
    DATA_DIR: dataDir,
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
    SIMULATOR_PORT: String(await freePort()),
    CONSOLE_PORT: String(await freePort()),
    SIMULATOR_RECORDS: '300',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
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
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'client/cli.ts', ...args], {
    cwd: PROJECT_ROOT,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('the system starts everything itself, runs a cycle at once and prints its summary as one JSON line', async () => {
  system = spawn(process.execPath, ['--import', 'tsx', 'workers/system.ts'], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
  // The web console: served on CONSOLE_PORT, loopback only, with a first admin whose password file is 0600.
  assert.match(stderr, new RegExp(`"console":"http://127\\.0\\.0\\.1:${env.CONSOLE_PORT}"`));
  const passwordFile = path.join(dataDir, 'initial-admin-password');
  assert.equal(statSync(passwordFile).mode & 0o777, 0o600);
  assert.match(stderr, /"passwordFile":"[^"]*initial-admin-password"/);
  assert.ok(!stderr.includes(readFileSync(passwordFile, 'utf8').trim()), 'the password itself is not logged');
  const login = await fetch(`http://127.0.0.1:${env.CONSOLE_PORT}/login`);
  assert.equal(login.status, 200);
});

test('the admin CLI works against the running system, with --json and meaningful exit codes', () => {
  const providers = JSON.parse(csp('provider', 'list', '--json').out);
  assert.equal(providers.length, 2);
  const { groups } = JSON.parse(
    csp('quarantine', 'list', '--carrier', 'Rhipe - Microsoft', '--reason', 'NON_EXISTENT_SERVICE', '--json').out,
  ) as { groups: Array<{ group: string; provider: string; lines: number }> };
  assert.ok(groups.length > 0);
  const tenants = JSON.parse(csp('tenant', 'list', '--provider', groups[0]!.provider, '--json').out) as Array<{
    service: string;
  }>;
  const allocated = csp('quarantine', 'allocate', groups[0]!.group, '--service', tenants[0]!.service, '--by', 'alice');
  assert.equal(allocated.code, 0, allocated.err);
  assert.match(allocated.out, new RegExp(`billed ${groups[0]!.lines}`));
  const again = csp('quarantine', 'allocate', groups[0]!.group, '--service', tenants[0]!.service, '--by', 'alice');
  assert.equal(again.code, 2);
  assert.match(again.err, /no quarantined lines|no quarantine group/);
  assert.equal(csp('quarantine', 'list', '--reason', 'NOT_A_REASON').code, 2);
  assert.equal(csp('quarantine', 'list', '--carrier', 'Telstra', '--json').code, 2);
  const swappedRun = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'client/cli.ts',
      'provider',
      'add',
      '--name',
      'X',
      '--client-id',
      '5d7e3f1209ab4c6a3b56c46cf55d0e1f',
    ],
    {
      cwd: PROJECT_ROOT,
      env: { ...env, RHIPE_CLIENT_SECRET: '8db0c1a2-4e5f-4a6b-9c7d-9155086a1e2f' },
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  const swapped = { code: swappedRun.status, err: swappedRun.stderr };
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

function logged(msg: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function waitFor(what: () => boolean, label: string, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) assert.fail(`${label}: ${stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a second npm start on the same ports says that one is already running, and where, and exits non-zero', () => {
  const second = spawnSync(process.execPath, ['--import', 'tsx', 'workers/system.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...env, CYCLE_ONCE: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(second.status, 2, second.stderr);
  assert.match(
    second.stderr,
    new RegExp(
      `a system is already running: pid ${system!.pid}, .*data folder ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, Temporal 127\\.0\\.0\\.1:${env.TEMPORAL_PORT}, Web UI http://127\\.0\\.0\\.1:${env.TEMPORAL_UI_PORT}`,
    ),
  );
  // Another data folder, same ports: refused by the ports it would need.
  const elsewhere = spawnSync(process.execPath, ['--import', 'tsx', 'workers/system.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...env, CYCLE_ONCE: '1', DATA_DIR: `${dataDir}-other` },
    encoding: 'utf8',
    timeout: 60_000,
  });
  rmSync(`${dataDir}-other`, { recursive: true, force: true });
  assert.equal(elsewhere.status, 2, elsewhere.stderr);
  assert.match(
    elsewhere.stderr,
    new RegExp(
      `127\\.0\\.0\\.1:${env.EMBEDDED_PG_PORT} \\(embedded PostgreSQL \\(EMBEDDED_PG_PORT\\)\\).*already in use`,
    ),
  );
  assert.equal(system!.exitCode, null, 'the first system still runs');
});

test('supervision: a killed worker and a killed embedded PostgreSQL are restarted (logged at warn) and the system goes on', async () => {
  const workerPid = logged('worker running (supervised)')[0]!.pid as number;
  process.kill(workerPid, 'SIGKILL');
  await waitFor(() => logged('worker restarted').length === 1, 'worker restarted');
  const restart = logged('worker exited; restarting in 1000 ms')[0]!;
  assert.equal(restart.level, 40);
  assert.equal(restart.signal, 'SIGKILL');
  const pgPid = logged('embedded PostgreSQL running')[0]!.pid as number;
  process.kill(pgPid, 'SIGKILL');
  await waitFor(() => logged('postgres restarted').length === 1, 'postgres restarted');
  assert.equal(logged('postgres restarted')[0]!.level, 40);
  const listed = csp('provider', 'list', '--json');
  assert.equal(listed.code, 0, listed.err);
  assert.equal(JSON.parse(listed.out).length, 2);
});

test('Ctrl-C (SIGINT, delivered twice as npm forwards it) is one orderly stop within a few seconds, every child included, with its final "stopped" line', async () => {
  const children = [
    logged('worker restarted').at(-1)!.pid as number,
    logged('postgres restarted').at(-1)!.pid as number,
    logged('Temporal dev server running')[0]!.pid as number,
  ];
  assert.ok(children.every(alive));
  const signalled = Date.now();
  system!.kill('SIGINT');
  // The terminal signals the whole process group and npm forwards the same Ctrl-C once more.
  await new Promise((r) => setTimeout(r, 50));
  system!.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => system!.once('exit', (c) => resolve(c)));
  const took = Date.now() - signalled;
  assert.equal(code, 0, stderr.slice(-1500));
  assert.ok(took < 10_000, `stopped in ${took} ms`);
  assert.match(stderr, /"state":"DRAINED"/);
  assert.match(stderr.trim().split('\n').at(-1)!, /"msg":"stopped"/);
  assert.deepEqual(children.filter(alive), [], 'no child left running');
});

test("one provider's failed cycle is that provider's alone: the system keeps running, the provider needs attention, CYCLE_ONCE exits 1; a second start bills nothing twice; a killed npm start leaves no orphan", async () => {
  // Revoke one provider's credentials: its stored secret is no longer the one the carrier knows.
  const port = Number(env.EMBEDDED_PG_PORT);
  const db = await startEmbeddedPostgres(dataDir, port);
  const pool = createPool(embeddedUrlFor(dataDir, port, 'csp')!, 2);
  let victim: ProviderView;
  try {
    const keyring = keyringFromConfig(loadConfig(env));
    await verifyKeyring(pool, keyring);
    victim = (await listProviders(pool))[1]!;
    await updateProviderSecret(pool, victim.id, victim.client_id, keyring.encrypt('0'.repeat(32)));
  } finally {
    await pool.end();
    await db.stop();
  }
  stdout = '';
  stderr = '';
  system = spawn(process.execPath, ['--import', 'tsx', 'workers/system.ts'], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  system.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  system.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor(() => stdout.includes('\n') || system!.exitCode !== null, 'summary line');
  const summary = JSON.parse(stdout.split('\n')[0]!) as {
    failed: number;
    cycles: Array<{ outcome: string; providerId: string; reason?: string }>;
  };
  assert.equal(summary.failed, 1);
  const failed = summary.cycles.filter((c) => c.outcome === 'failed');
  assert.deepEqual(
    failed.map((c) => c.providerId),
    [victim.id],
  );
  assert.match(failed[0]!.reason!, /invalid_client/);
  const completed = summary.cycles.filter((c) => c.outcome === 'completed') as unknown as Array<{
    billed: number;
    quarantined: number;
    fetched: number;
    duplicatesSkipped: number;
  }>;
  assert.equal(completed.length, 1, "the other provider's cycle completed");
  // A second start is safe: everything it fetches again was billed by the first, nothing twice.
  assert.equal(completed[0]!.billed, 0);
  assert.equal(completed[0]!.quarantined, 0);
  assert.equal(completed[0]!.duplicatesSkipped, completed[0]!.fetched);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(system.exitCode, null, 'the system keeps running');
  const listed = JSON.parse(csp('provider', 'list', '--json').out) as Array<{
    id: string;
    status: string;
    attention: string | null;
  }>;
  const row = listed.find((p) => p.id === victim.id)!;
  assert.equal(row.status, 'NEEDS_ATTENTION');
  assert.match(row.attention ?? '', /invalid_client/);
  assert.ok(listed.filter((p) => p.id !== victim.id).every((p) => p.status === 'ACTIVE'));
  // npm start killed outright: its children (worker, PostgreSQL, dev server) must not live on as orphans.
  const children = [
    logged('worker running (supervised)')[0]!.pid,
    logged('embedded PostgreSQL running')[0]!.pid,
    logged('Temporal dev server running')[0]!.pid,
  ] as number[];
  system.kill('SIGKILL');
  await new Promise((resolve) => system!.once('exit', resolve));
  const gone = Date.now() + 30_000;
  while (children.some(alive) && Date.now() < gone) await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(children.filter(alive), [], 'no child outlives a killed npm start');

  const once = spawnSync(process.execPath, ['--import', 'tsx', 'workers/system.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...env, CYCLE_ONCE: '1' },
    encoding: 'utf8',
    timeout: 240_000,
  });
  assert.equal(once.status, 1, once.stderr.slice(-1500));
  const onceSummary = JSON.parse(once.stdout.trim().split('\n')[0]!) as {
    failed: number;
    cycles: Array<{ outcome: string; reason?: string }>;
  };
  assert.equal(onceSummary.failed, 1);
  assert.ok(onceSummary.cycles.some((c) => c.outcome === 'completed'));
});

test('npm start killed outright (kill -9, so no signal reaches the system): the system notices its parent has gone and stops, every child included', async () => {
  stdout = '';
  stderr = '';
  // The system under a parent that is not replaced by it (as npm or a shell that does not exec).
  const parent = spawn('bash', ['-c', `"${process.execPath}" --import tsx workers/system.ts; exit $?`], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  parent.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  parent.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let systemPid = 0;
  try {
    await waitFor(() => stdout.includes('\n') || parent.exitCode !== null, 'summary line');
    systemPid = Number(spawnSync('pgrep', ['-P', String(parent.pid)], { encoding: 'utf8' }).stdout.trim());
    assert.ok(systemPid > 0, 'the system runs in a process of its own, under bash');
    const children = [
      logged('worker running (supervised)')[0]!.pid,
      logged('embedded PostgreSQL running')[0]!.pid,
      logged('Temporal dev server running')[0]!.pid,
    ] as number[];
    parent.kill('SIGKILL');
    const gone = Date.now() + 30_000;
    while ([systemPid, ...children].some(alive) && Date.now() < gone) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual([systemPid, ...children].filter(alive), [], 'the system and its children stopped');
    assert.ok(logged('the process that started this one has gone: stopping').length === 1, 'it says why it stopped');
  } finally {
    if (parent.exitCode === null) parent.kill('SIGKILL');
    // Should it have lived on (the test failing), it is stopped here, and its output let go.
    if (systemPid > 0 && alive(systemPid)) process.kill(systemPid, 'SIGTERM');
    parent.stdout.destroy();
    parent.stderr.destroy();
  }
});
