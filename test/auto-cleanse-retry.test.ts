import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from './support/database';
import { tenantActivities } from '../activities/tenant';
import { onboardingActivities } from '../activities/onboarding';
import type { ActivityDeps } from '../activities/deps';
import type { Pool } from '../db/pool';
import type { ChangeResult } from '../workflows/tenant.api';
import { MockActivityEnvironment } from '@temporalio/testing';
import { AUTO_CLEANSE_ATTEMPTS } from '../activities/tenant';

// Auto-cleanse must survive at-least-once activities: a signal that failed after the change it
// follows was committed is sent again. Only the Temporal client is a stand-in here, to record
// signals (as "<signal> <workflow id>") and fail the first `failing` of them.

async function withProvider(
  setupSql: string[],
  failing: number,
  check: (deps: ActivityDeps, signalled: string[], pool: Pool, warnings: string[]) => Promise<void>,
): Promise<void> {
  const db = await freshDatabase();
  try {
    await db.pool.query(
      `INSERT INTO provider (id, name, client_id, secret_ciphertext, time_zone, cycle_times) VALUES ('p1', 'P', 'c1', 'x', 'UTC', '{06:00}')`,
    );
    for (const sql of setupSql) await db.pool.query(sql);
    const signalled: string[] = [];
    const temporal = {
      workflow: {
        signalWithStart: async (_wf: unknown, opts: { workflowId: string; signal: { name: string } | string }) => {
          signalled.push(`${typeof opts.signal === 'string' ? opts.signal : opts.signal.name} ${opts.workflowId}`);
          if (signalled.length <= failing) throw new Error('14 UNAVAILABLE: the frontend is restarting');
        },
      },
    };
    const warnings: string[] = [];
    const log = {
      warn: (_fields: unknown, msg: string) => warnings.push(msg),
      info: () => undefined,
      debug: () => undefined,
    };
    await check(
      { pool: db.pool, temporal, taskQueue: 'q', log } as unknown as ActivityDeps,
      signalled,
      db.pool,
      warnings,
    );
  } finally {
    await db.drop();
  }
}

const quarantined = (reason: string, tenant: string, serviceId: string | null) =>
  `INSERT INTO usage_line (provider_id, record_key, content_hash, raw, first_cycle_id, status, reason, tenant_ref, service_id, group_key)
   VALUES ('p1', 'r-${tenant}', 'h', '{}', 'c', 'QUARANTINED', '${reason}', '${tenant}', ${serviceId ? `'${serviceId}'` : 'NULL'}, 'p1|${reason}|${tenant}')`;

test('a reactivation retried after its auto-cleanse signal failed signals the groups again', () =>
  withProvider(
    [
      `INSERT INTO service (id, provider_id, tenant_id, cancelled_on) VALUES ('S-1', 'p1', 't1', '2026-10-01')`,
      quarantined('SERVICE_INACTIVE', 't1', 'S-1'),
    ],
    1,
    async (deps, signalled, pool) => {
      const activities = tenantActivities(deps);
      const input = {
        providerId: 'p1',
        tenantId: 't1',
        serviceId: 'S-1',
        changeId: 'change-1',
        by: 'alice',
        change: { kind: 'reactivateService' as const },
      };
      await assert.rejects(activities.applyLicenceChange(input), /UNAVAILABLE/);
      const service = await pool.query<{ cancelled_on: string | null }>(
        `SELECT cancelled_on FROM service WHERE id = 'S-1'`,
      );
      assert.equal(service.rows[0]!.cancelled_on, null, 'the reactivation was recorded before the signal failed');
      // Temporal retries the activity with the same change id: the recorded result, and the signal again.
      const retried = await activities.applyLicenceChange(input);
      assert.equal(retried.kind, 'reactivateService');
      assert.equal(signalled.length, 2, `signals: ${signalled.join('; ')}`);
      assert.match(signalled[1]!, /^cleanse .*SERVICE_INACTIVE/);
    },
  ));

test('a reactivation whose auto-cleanse keeps failing is still reported made once its tries run out (the lines wait for an admin, and a warning says so)', () =>
  withProvider(
    [
      `INSERT INTO service (id, provider_id, tenant_id, cancelled_on) VALUES ('S-1', 'p1', 't1', '2026-10-01')`,
      quarantined('SERVICE_INACTIVE', 't1', 'S-1'),
    ],
    99,
    async (deps, signalled, _pool, warnings) => {
      const input = {
        providerId: 'p1',
        tenantId: 't1',
        serviceId: 'S-1',
        changeId: 'change-2',
        by: 'alice',
        change: { kind: 'reactivateService' as const },
      };
      const attempt = (n: number): Promise<ChangeResult> =>
        new MockActivityEnvironment({ attempt: n }).run(
          (i: typeof input) => tenantActivities(deps).applyLicenceChange(i),
          input,
        );
      await assert.rejects(attempt(1), /UNAVAILABLE/);
      await assert.rejects(attempt(AUTO_CLEANSE_ATTEMPTS - 1), /UNAVAILABLE/);
      const made = await attempt(AUTO_CLEANSE_ATTEMPTS);
      assert.equal(made.kind, 'reactivateService');
      assert.equal(signalled.length, 3, 'each try signalled');
      assert.deepEqual(warnings, [
        'service reactivated, but its quarantined lines could not be told to cleanse: cleanse them from the quarantine',
      ]);
    },
  ));

test('a discovery ends by telling every group of an unknown tenant that has a service by now to cleanse (a storing step retried after its commit told nobody); its own retry tells them again and keeps its count of tenants gone', () =>
  // t1's service was stored (its signal lost); t2 has none yet. This discovery found no tenant,
  // so t1 is flagged gone: the first finish commits that, then its signal fails.
  withProvider(
    [
      `INSERT INTO service (id, provider_id, tenant_id) VALUES ('S-1', 'p1', 't1')`,
      quarantined('NON_EXISTENT_SERVICE', 't1', null),
      quarantined('NON_EXISTENT_SERVICE', 't2', null),
    ],
    1,
    async (deps, signalled) => {
      const activities = onboardingActivities(deps);
      const { discoveryId } = await activities.beginDiscovery({ providerId: 'p1' });
      await assert.rejects(activities.finishDiscovery({ providerId: 'p1', discoveryId }), /UNAVAILABLE/);
      const retried = await activities.finishDiscovery({ providerId: 'p1', discoveryId });
      assert.deepEqual(signalled, [
        'cleanse quarantine:p1:NON_EXISTENT_SERVICE:t1',
        'cleanse quarantine:p1:NON_EXISTENT_SERVICE:t1',
      ]);
      assert.equal(retried.flaggedGone, 1, 'the retry reports the tenant the first attempt flagged');
    },
  ));
