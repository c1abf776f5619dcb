import type { Pool } from '../db/pool';
import type { WorkflowStarter } from '../workflows/starter';
import { signalCleanse, signalLinesAdded } from '../workflows/quarantine-group.api';

interface NotifyDeps extends WorkflowStarter {
  pool: Pool;
}

/**
 * Signal-with-start each group that received lines from `mediatedBy` (a cycle or an action):
 * the signal carries the count only; the lines stay in the database.
 */
export async function notifyGroups(deps: NotifyDeps, providerId: string, mediatedBy: string, except?: string): Promise<number> {
  const rows = await deps.pool.query<{ group_key: string; n: number }>(
    `SELECT group_key, count(*)::int AS n FROM usage_line
      WHERE provider_id = $1 AND mediated_cycle_id = $2 AND status = 'QUARANTINED' GROUP BY group_key ORDER BY group_key`,
    [providerId, mediatedBy],
  );
  let notified = 0;
  for (const row of rows.rows) {
    if (row.group_key === except) continue;
    await signalLinesAdded(deps, row.group_key, { source: mediatedBy, count: row.n });
    notified++;
  }
  return notified;
}

export type AutoCleanseTrigger =
  | { kind: 'serviceCreated'; tenantId: string }
  | { kind: 'rateAdded'; productId: string | null }
  | { kind: 'serviceReactivated'; serviceId: string };

/**
 * Auto-cleanse: when what made lines fail is fixed (a service for their tenant, a rate for their
 * product, a reactivated service), the affected groups are told to cleanse themselves.
 */
export async function autoCleanse(deps: NotifyDeps, providerId: string, trigger: AutoCleanseTrigger): Promise<string[]> {
  let sql: string;
  let param: string | null;
  switch (trigger.kind) {
    case 'serviceCreated':
      sql = `reason = 'NON_EXISTENT_SERVICE' AND tenant_ref = lower($2)`;
      param = trigger.tenantId;
      break;
    case 'rateAdded':
      sql = `reason = 'NO_RATE_CARD' AND ($2::text IS NULL OR product_ref = lower($2))`;
      param = trigger.productId;
      break;
    case 'serviceReactivated':
      sql = `reason = 'SERVICE_INACTIVE' AND service_id = $2`;
      param = trigger.serviceId;
      break;
  }
  const rows = await deps.pool.query<{ group_key: string }>(
    `SELECT DISTINCT group_key FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED' AND ${sql} ORDER BY group_key`,
    [providerId, param],
  );
  const why = trigger.kind === 'serviceCreated' ? `service created for tenant ${trigger.tenantId}`
    : trigger.kind === 'rateAdded' ? `rate added${trigger.productId ? ` for product ${trigger.productId}` : ' (default markup)'}`
    : `service ${trigger.serviceId} reactivated`;
  for (const row of rows.rows) {
    await signalCleanse(deps, row.group_key, { by: 'system:auto-cleanse', note: why });
  }
  return rows.rows.map((r) => r.group_key);
}
