import type { Pool, PoolClient } from './pool';
import type { QuarantineAction } from '../workflows/quarantine-group.api';

type Queryable = Pool | PoolClient;

/** The audit trail of quarantine actions, applied or rejected; request_id makes each act once. */
export interface QuarantineActionRow {
  request_id: string;
  action: QuarantineAction;
  actor: string;
  outcome: 'APPLIED' | 'REJECTED';
  rejection: string | null;
  params: { serviceId?: string; reason?: string };
  line_ids: number[];
  created_at: Date;
}

/** Request ids are scoped to their group: another group's id is not a replay of its action. */
export async function getQuarantineAction(
  db: Queryable,
  groupKey: string,
  requestId: string,
): Promise<QuarantineActionRow | null> {
  const res = await db.query<QuarantineActionRow>(
    'SELECT request_id, action, actor, outcome, rejection, params, line_ids, created_at FROM quarantine_action WHERE group_key = $1 AND request_id = $2',
    [groupKey, requestId],
  );
  return res.rows[0] ?? null;
}

export interface NewQuarantineAction {
  requestId: string;
  providerId: string;
  groupKey: string;
  action: QuarantineAction;
  actor: string;
  note: string | null;
  params: { serviceId?: string; reason?: string };
  rejection: string | null;
  lineIds: number[];
  /** The OS user of the CLI that sent it, and the logged-in user of a console: beside the free-text actor. */
  osUser?: string | null;
  principal?: string | null;
}

export async function insertQuarantineAction(db: Queryable, a: NewQuarantineAction): Promise<void> {
  await db.query(
    `INSERT INTO quarantine_action (request_id, provider_id, group_key, action, actor, note, params, outcome, rejection, line_ids, os_user, principal)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      a.requestId,
      a.providerId,
      a.groupKey,
      a.action,
      a.actor,
      a.note,
      a.params,
      a.rejection ? 'REJECTED' : 'APPLIED',
      a.rejection,
      a.rejection ? [] : a.lineIds,
      a.osUser ?? null,
      a.principal ?? null,
    ],
  );
}

/** What became of the action's lines, kept on its audit row. */
export async function storeQuarantineActionResult(
  db: Queryable,
  groupKey: string,
  requestId: string,
  r: { billed: number; requarantined: number; writtenOff: number; amount: string },
): Promise<void> {
  await db.query(
    'UPDATE quarantine_action SET billed = $2, requarantined = $3, written_off = $4, amount = $5 WHERE request_id = $1 AND group_key = $6',
    [requestId, r.billed, r.requarantined, r.writtenOff, r.amount, groupKey],
  );
}

/** A group's audit trail, oldest first (the CLI's `quarantine show`, the console's group page). */
export interface QuarantineActionListing {
  id: number;
  created_at: Date;
  action: string;
  actor: string;
  os_user: string | null;
  principal: string | null;
  outcome: string;
  rejection: string | null;
  note: string | null;
  params: { serviceId?: string; reason?: string };
  lines: number;
  billed: number;
  requarantined: number;
  written_off: number;
  amount: string;
}

export async function listQuarantineActions(db: Queryable, groupKey: string): Promise<QuarantineActionListing[]> {
  const res = await db.query<QuarantineActionListing>(
    `SELECT id, created_at, action, actor, os_user, principal, outcome, rejection, note, params, cardinality(line_ids) AS lines, billed, requarantined, written_off, amount::text
       FROM quarantine_action WHERE group_key = $1 ORDER BY id`,
    [groupKey],
  );
  return res.rows;
}
