import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../config';
import { temporalTls } from '../config/temporal-tls';

const dir = mkdtempSync(path.join(os.tmpdir(), 'csp-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));
for (const f of ['ca.crt', 'client.crt', 'client.key']) writeFileSync(path.join(dir, f), `-----BEGIN ${f}-----\n`);

test('TLS towards a configured Temporal frontend: CA, client certificate pair and server name from files', () => {
  const cfg = loadConfig({
    TEMPORAL_ADDRESS: 'temporal:7233',
    TEMPORAL_TLS_CA_FILE: path.join(dir, 'ca.crt'),
    TEMPORAL_TLS_CERT_FILE: path.join(dir, 'client.crt'),
    TEMPORAL_TLS_KEY_FILE: path.join(dir, 'client.key'),
    TEMPORAL_TLS_SERVER_NAME: 'temporal',
  });
  const tls = temporalTls(cfg)!;
  assert.equal(tls.serverNameOverride, 'temporal');
  assert.equal(tls.serverRootCACertificate!.toString(), '-----BEGIN ca.crt-----\n');
  assert.equal(tls.clientCertPair!.crt.toString(), '-----BEGIN client.crt-----\n');
  assert.equal(tls.clientCertPair!.key.toString(), '-----BEGIN client.key-----\n');
  assert.equal(temporalTls(loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233' })), undefined, 'plain when not configured');
  assert.equal(
    temporalTls(loadConfig({ TEMPORAL_TLS_CA_FILE: path.join(dir, 'ca.crt') })),
    undefined,
    'the local dev server is plain',
  );
});

test('TLS settings that cannot work stop start-up with the variable named', () => {
  assert.throws(
    () => temporalTls(loadConfig({ TEMPORAL_ADDRESS: 't:7233', TEMPORAL_TLS_CERT_FILE: path.join(dir, 'client.crt') })),
    (e: Error) => e instanceof ConfigError && /TEMPORAL_TLS_KEY_FILE/.test(e.message),
  );
  assert.throws(
    () => temporalTls(loadConfig({ TEMPORAL_ADDRESS: 't:7233', TEMPORAL_TLS_CA_FILE: path.join(dir, 'missing.crt') })),
    (e: Error) => e instanceof ConfigError && /TEMPORAL_TLS_CA_FILE: cannot read .*ENOENT/.test(e.message),
  );
});
