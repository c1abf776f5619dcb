import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT, configSchema } from '../config';

// No Docker engine runs here: the deploy shape is checked by reading it.
const compose = parse(readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<
    string,
    {
      image?: string;
      build?: { context: string; dockerfile: string };
      ports?: string[];
      environment?: Record<string, string>;
      healthcheck?: { test: unknown };
      depends_on?: Record<string, { condition: string }>;
      deploy?: { replicas?: number };
    }
  >;
};

test('compose: PostgreSQL, Temporal on PostgreSQL, the Temporal UI and the worker, each with a health check', () => {
  const s = compose.services;
  assert.deepEqual(Object.keys(s).sort(), ['grafana', 'postgresql', 'prometheus', 'temporal', 'temporal-ui', 'worker']);
  assert.match(s.postgresql!.image!, /^postgres:15/);
  assert.match(s.temporal!.image!, /^temporalio\/auto-setup:\d/);
  assert.match(s['temporal-ui']!.image!, /^temporalio\/ui:\d/);
  for (const [name, svc] of Object.entries(s)) assert.ok(svc.healthcheck?.test, `${name} has a health check`);
  assert.equal(s.temporal!.environment!.DB, 'postgres12');
  assert.equal(s.temporal!.environment!.POSTGRES_SEEDS, 'postgresql');
});

test('compose: ports, start order and the worker image', () => {
  const s = compose.services;
  assert.ok(s.postgresql!.ports!.some((p) => p.endsWith(':5432')));
  assert.ok(s.temporal!.ports!.some((p) => p.endsWith(':7233')));
  assert.ok(s['temporal-ui']!.ports!.some((p) => p.endsWith(':8080')));
  assert.equal(s.worker!.build!.context, '.');
  assert.ok(existsSync(path.join(PROJECT_ROOT, s.worker!.build!.dockerfile)));
  assert.match(
    readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8'),
    /^CMD \["node", ("--[a-z-]+=\d+", )*"dist\/workers\/main\.js"\]$/m,
    'the worker runs compiled JavaScript',
  );
  assert.equal(s.temporal!.depends_on!.postgresql!.condition, 'service_healthy');
  assert.equal(s.worker!.depends_on!.temporal!.condition, 'service_healthy');
  assert.equal(s.worker!.depends_on!.postgresql!.condition, 'service_healthy');
  assert.ok((s.worker!.deploy!.replicas ?? 1) >= 2, 'more than one worker');
});

test('compose: the worker environment is valid configuration, with secrets only by reference', () => {
  const envVars = compose.services.worker!.environment!;
  const known = Object.keys(configSchema.shape);
  for (const name of Object.keys(envVars)) assert.ok(known.includes(name), `${name} is a configuration variable`);
  assert.match(envVars.DATABASE_URL!, /@postgresql:5432\//);
  assert.equal(envVars.TEMPORAL_ADDRESS, 'temporal:7233');
  // The worker never connects as the superuser: migrations as csp_owner, the rest as csp_app (db/roles.sql).
  assert.match(envVars.DATABASE_URL!, /^postgres:\/\/csp_app:/);
  assert.match(envVars.DATABASE_OWNER_URL!, /^postgres:\/\/csp_owner:/);
  const postgres = compose.services.postgresql as { volumes?: string[] };
  assert.ok(postgres.volumes!.some((v) => v.startsWith('./db/compose-roles.sh:/docker-entrypoint-initdb.d/')));
  assert.ok(postgres.volumes!.some((v) => v.startsWith('./db/roles.sql:/csp/roles.sql')));
  for (const secret of ['ENCRYPTION_KEY', 'DATABASE_URL', 'DATABASE_OWNER_URL'])
    assert.match(envVars[secret]!, /\$\{/, `${secret} comes from the environment`);
  assert.equal(envVars.METRICS_PORT, '9464');
  const text = readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8');
  assert.ok(!/[0-9a-f]{32}/i.test(text), 'no secret-looking value in the file');
});

test("compose: Prometheus scrapes the workers' metrics port with the rules from ops/, Grafana gets the dashboards", () => {
  const s = compose.services as Record<string, { volumes?: string[]; environment?: Record<string, string> }>;
  assert.ok(s.prometheus!.volumes!.some((v) => v.startsWith('./ops/prometheus:')));
  assert.ok(s.grafana!.volumes!.some((v) => v.startsWith('./ops/grafana/dashboards:')));
  const prom = parse(readFileSync(path.join(PROJECT_ROOT, 'ops', 'prometheus', 'prometheus.yml'), 'utf8')) as {
    rule_files: string[];
    scrape_configs: Array<{ dns_sd_configs: Array<{ names: string[]; port: number }> }>;
  };
  const target = prom.scrape_configs[0]!.dns_sd_configs[0]!;
  assert.deepEqual(target.names, ['worker']);
  assert.equal(String(target.port), compose.services.worker!.environment!.METRICS_PORT);
  assert.ok(prom.rule_files.some((f) => f.endsWith('/alerts.yml')));
  assert.match(s.grafana!.environment!.GF_SECURITY_ADMIN_PASSWORD!, /\$\{/, 'Grafana password from the environment');
});

type Service = {
  restart?: string;
  healthcheck?: { test: unknown };
  environment?: Record<string, string>;
  volumes?: string[];
};
const services = () => compose.services as unknown as Record<string, Service>;

test('compose: every service restarts on its own and has a health check', () => {
  for (const [name, svc] of Object.entries(services())) {
    assert.ok(['always', 'unless-stopped', 'on-failure'].includes(svc.restart ?? ''), `${name} has a restart policy`);
    assert.ok(svc.healthcheck?.test, `${name} has a health check`);
  }
});

test("compose: Temporal's frontend requires TLS with client certificates; the UI signs users in with OIDC", () => {
  const s = services();
  const temporal = s.temporal!.environment!;
  assert.equal(temporal.TEMPORAL_TLS_REQUIRE_CLIENT_AUTH, 'true');
  for (const k of [
    'TEMPORAL_TLS_FRONTEND_CERT',
    'TEMPORAL_TLS_FRONTEND_KEY',
    'TEMPORAL_TLS_CLIENT1_CA_CERT',
    'TEMPORAL_TLS_SERVER_CERT',
    'TEMPORAL_TLS_SERVER_KEY',
  ]) {
    assert.match(temporal[k] ?? '', /^\/etc\/temporal\/tls\//, k);
  }
  assert.ok(
    s.temporal!.volumes!.some((v) => /^\$\{TLS_DIR:\?[^}]*\}:\/etc\/temporal\/tls:ro$/.test(v)),
    'certificates mounted read-only from TLS_DIR',
  );
  assert.match(JSON.stringify(s.temporal!.healthcheck!.test), /--tls-cert-path/);
  const ui = s['temporal-ui']!.environment!;
  assert.equal(ui.TEMPORAL_AUTH_ENABLED, 'true');
  for (const k of ['TEMPORAL_AUTH_PROVIDER_URL', 'TEMPORAL_AUTH_CLIENT_ID', 'TEMPORAL_AUTH_CLIENT_SECRET'])
    assert.match(ui[k] ?? '', /^\$\{TEMPORAL_UI_OIDC_[A-Z_]+:\?/, `${k} must be given`);
  assert.match(ui.TEMPORAL_AUTH_CALLBACK_URL ?? '', /\/auth\/sso\/callback$/);
  assert.ok(
    ui.TEMPORAL_TLS_CERT && ui.TEMPORAL_TLS_KEY && ui.TEMPORAL_TLS_CA,
    'the UI is a TLS client of the frontend',
  );
  const worker = s.worker!.environment!;
  for (const k of [
    'TEMPORAL_TLS_CA_FILE',
    'TEMPORAL_TLS_CERT_FILE',
    'TEMPORAL_TLS_KEY_FILE',
    'TEMPORAL_TLS_SERVER_NAME',
  ])
    assert.ok(worker[k], `worker ${k}`);
  for (const [name, svc] of Object.entries(compose.services))
    for (const p of svc.ports ?? []) assert.match(p, /^127\.0\.0\.1:/, `${name} publishes on loopback only`);
});
