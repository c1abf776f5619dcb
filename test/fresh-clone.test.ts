import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  lstatSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../config';
import { freePort } from './support/ports';

/**
 * Both Quick start commands from a fresh clone in a folder only its owner can enter (mode 0700,
 * like /root or any `mktemp -d` folder): as root, the embedded PostgreSQL cannot run as root and
 * the `postgres` user cannot reach the clone; as an ordinary user nothing special may be needed.
 * npm packages and the Temporal binaries are linked from this checkout (installing them again
 * would take minutes); their time stamps are kept so that setup finds them installed.
 */
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

function git(args: string[], cwd = PROJECT_ROOT): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/**
 * `git clone` of this checkout, plus its uncommitted changes (so the test tests the working tree).
 * npm packages and the Temporal binaries are linked, or copied with their time stamps when the clone
 * is for another user: this checkout may itself sit in a 0700 folder (CI's clone, a `mktemp -d`)
 * that the other user cannot enter, and setup would then try to install over a dead link.
 */
function cloneInto(parent: string, { copyTools = false } = {}): string {
  const clone = path.join(parent, 'csp-billing');
  git(['clone', '--quiet', '--no-hardlinks', PROJECT_ROOT, clone], parent);
  for (const f of git(['ls-files', '-m', '-o', '--exclude-standard']).split('\n').filter(Boolean)) {
    mkdirSync(path.dirname(path.join(clone, f)), { recursive: true });
    copyFileSync(path.join(PROJECT_ROOT, f), path.join(clone, f));
  }
  for (const f of git(['ls-files', '-d']).split('\n').filter(Boolean)) rmSync(path.join(clone, f), { force: true });
  mkdirSync(path.join(clone, '.tools'));
  for (const dir of ['node_modules', path.join('.tools', 'venv')]) {
    if (!copyTools) symlinkSync(path.join(PROJECT_ROOT, dir), path.join(clone, dir));
    else {
      const cp = spawnSync('cp', ['-a', path.join(PROJECT_ROOT, dir), path.join(clone, dir)], { encoding: 'utf8' });
      assert.equal(cp.status, 0, cp.stderr);
    }
  }
  for (const f of ['package-lock.json', 'scripts/temporal-requirements.txt']) {
    const st = statSync(path.join(PROJECT_ROOT, f));
    utimesSync(path.join(clone, f), st.atime, st.mtime);
  }
  // Never let setup run `npm ci` over the linked node_modules.
  const wouldInstall = spawnSync('bash', ['-c', '[ package-lock.json -nt node_modules/.package-lock.json ]'], {
    cwd: clone,
  });
  assert.notEqual(wouldInstall.status, 0, 'setup would reinstall npm packages in the clone');
  return clone;
}

function chownTree(p: string, uid: number): void {
  const st = lstatSync(p);
  if (st.isSymbolicLink()) return;
  chownSync(p, uid, uid);
  if (st.isDirectory()) for (const n of readdirSync(p)) chownTree(path.join(p, n), uid);
}

async function quickStartEnv(home: string): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    CYCLE_ONCE: '1',
    SIMULATOR_RECORDS: '50',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'warn',
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
    SIMULATOR_PORT: String(await freePort()),
    METRICS_PORT: '0',
    npm_config_cache: path.join(home, '.npm'),
    npm_config_update_notifier: 'false',
  };
  for (const k of ['DATA_DIR', 'DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEST_DATABASE_SERVER_URL', 'NODE_TEST_CONTEXT'])
    delete env[k];
  return env;
}

function run(cmd: string[], cwd: string, env: NodeJS.ProcessEnv, asUid?: number) {
  const argv =
    asUid === undefined ? cmd : ['setpriv', `--reuid=${asUid}`, `--regid=${asUid}`, '--clear-groups', ...cmd];
  return spawnSync(argv[0]!, argv.slice(1), { cwd, env, encoding: 'utf8', timeout: 420_000 });
}

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

let rootClone: string;
before(() => {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'csp-clone-'));
  roots.push(parent);
  assert.equal(statSync(parent).mode & 0o777, 0o700);
  rootClone = cloneInto(parent);
});

test(`a fresh clone in a 0700 folder: "npm start" runs a cycle and exits 0 (as ${isRoot ? 'root' : 'this user'})`, async () => {
  const r = run(['npm', 'start', '--silent'], rootClone, await quickStartEnv(path.dirname(rootClone)));
  assert.equal(r.status, 0, `${r.stderr.slice(-3000)}`);
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { billed: number; failed: number };
  assert.ok(summary.billed > 0);
  assert.equal(summary.failed, 0);
});

test(`a fresh clone in a 0700 folder: "npm test" starts its own database and runs (as ${isRoot ? 'root' : 'this user'})`, async () => {
  const r = run(
    ['npm', 'test', '--silent', '--', 'config.test'],
    rootClone,
    await quickStartEnv(path.dirname(rootClone)),
  );
  assert.equal(r.status, 0, `${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  assert.match(r.stdout, /# pass [1-9]/);
  assert.match(r.stdout, /# fail 0/);
});

test(
  'a fresh clone in a 0700 folder of an ordinary user: "npm start" works for that user',
  { skip: isRoot ? false : 'needs root to act as another user' },
  async () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'csp-clone-user-'));
    roots.push(parent);
    const clone = cloneInto(parent, { copyTools: true });
    chownTree(parent, NOBODY);
    const r = run(['npm', 'start', '--silent'], clone, await quickStartEnv(parent), NOBODY);
    assert.equal(r.status, 0, `${r.stderr.slice(-3000)}`);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { billed: number };
    assert.ok(summary.billed > 0);
    assert.equal(statSync(path.join(clone, '.data', 'pg')).uid, NOBODY, 'the database belongs to that user');
  },
);
