import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, configSchema, loadConfig } from '../config';
import { PROJECT_ROOT } from '../config';

test('config: defaults are complete and valid', () => {
  const cfg = loadConfig({});
  assert.equal(cfg.TASK_QUEUE, 'csp-billing');
  assert.deepEqual(cfg.CYCLE_TIMES, ['06:00', '18:00']);
  assert.equal(cfg.CYCLE_ONCE, false);
});

test('config: each bad value names the variable and what is expected', () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ TEMPORAL_PORT: 'seventy' }, /TEMPORAL_PORT: .*number/i],
    [{ CYCLE_TIMES: '6am,18:00' }, /CYCLE_TIMES.*HH:MM/],
    [{ DEFAULT_TIME_ZONE: 'Sydney' }, /DEFAULT_TIME_ZONE: must be an IANA time zone/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must be a postgres:\/\/ URL/],
    [{ TEMPORAL_ADDRESS: 'localhost' }, /TEMPORAL_ADDRESS: must be host:port/],
    [{ ENCRYPTION_KEY: 'short' }, /ENCRYPTION_KEY: must be 32 bytes/],
    [{ CYCLE_ONCE: 'yes' }, /CYCLE_ONCE/],
    [{ USAGE_PAGE_SIZE: '0' }, /USAGE_PAGE_SIZE/],
    [{ RHIPE_API_URL: 'ftp://carrier' }, /RHIPE_API_URL/],
  ];
  for (const [env, pattern] of bad) {
    assert.throws(
      () => loadConfig(env),
      (e: Error) => e instanceof ConfigError && pattern.test(e.message),
      `${JSON.stringify(env)}`,
    );
  }
});

test('config: a secret value is never echoed in the error', () => {
  const secrets: Array<[Record<string, string>, string]> = [
    [{ ENCRYPTION_KEY: 'not-a-key-but-secret-looking' }, 'not-a-key-but-secret-looking'],
    [{ DATABASE_URL: 'mysql://billing:hunter2@db/csp' }, 'hunter2'],
  ];
  for (const [env, secret] of secrets) {
    const name = Object.keys(env)[0]!;
    assert.throws(
      () => loadConfig(env),
      (e: Error) => e instanceof ConfigError && e.message.includes(name) && !e.message.includes(secret),
      name,
    );
  }
});

test('config: a bad value stops start-up with the message and a non-zero exit', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, USAGE_PAGE_SIZE: 'lots', DATABASE_URL: 'postgres://127.0.0.1:1/none' },
    timeout: 60_000,
  });
  assert.equal(r.status, 2, 'a configuration mistake to fix');
  assert.match(r.stderr, /USAGE_PAGE_SIZE/);
});

test('config/index.ts is the one place a configuration variable is read from the environment', () => {
  const names = Object.keys(configSchema.shape);
  const reads = new RegExp(`process\\.env(?:\\.|\\[['"\`])(${names.join('|')})\\b`);
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) {
        if (!['node_modules', 'test', 'bench', '.git', '.data', '.tools', 'dist'].includes(name)) walk(full);
      } else if (name.endsWith('.ts') && full !== path.join(PROJECT_ROOT, 'config', 'index.ts')) {
        const m = reads.exec(readFileSync(full, 'utf8'));
        if (m) offenders.push(`${path.relative(PROJECT_ROOT, full)} reads ${m[1]}`);
      }
    }
  };
  walk(PROJECT_ROOT);
  assert.deepEqual(offenders, []);
});
