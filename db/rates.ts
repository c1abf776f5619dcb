import type { Pool, PoolClient } from './pool';
import { inTransaction } from './pool';
import { decimalText } from '../core/money';
import type { RateCard, RateRule } from '../core/rating';
import { loadRateCard } from './mediation-context';
import { recordAudit, type AuditSource } from './audit-events';

type Queryable = Pool | PoolClient;

export async function getRateCard(db: Queryable, providerId: string): Promise<RateCard | null> {
  return loadRateCard(db, providerId);
}

/** Ensures the provider has a card (its currency is the provider's) and sets its default markup when given. */
export async function ensureRateCard(
  db: Queryable,
  providerId: string,
  currency: string,
  defaultMarkupPercent?: string | null,
): Promise<void> {
  await db.query(
    `INSERT INTO rate_card (provider_id, currency, default_markup_percent) VALUES ($1, upper($2), $3::numeric)
     ON CONFLICT (provider_id) DO UPDATE SET
       default_markup_percent = CASE WHEN $4 THEN EXCLUDED.default_markup_percent ELSE rate_card.default_markup_percent END,
       updated_at = now()`,
    [providerId, currency, defaultMarkupPercent ?? null, defaultMarkupPercent !== undefined],
  );
}

export async function setRateRule(db: Queryable, providerId: string, rule: RateRule): Promise<void> {
  await db.query(
    `INSERT INTO rate_rule (provider_id, product_id, service_id, kind, value) VALUES ($1, lower($2), $3, $4, $5::numeric)
     ON CONFLICT (provider_id, product_id, service_id) DO UPDATE SET kind = EXCLUDED.kind, value = EXCLUDED.value, updated_at = now()`,
    [providerId, rule.productId, rule.serviceId ?? null, rule.kind, rule.value ? decimalText(rule.value) : null],
  );
}

export async function removeRateRule(
  db: Queryable,
  providerId: string,
  productId: string,
  serviceId: string | null,
): Promise<boolean> {
  const res = await db.query(
    'DELETE FROM rate_rule WHERE provider_id = $1 AND product_id = lower($2) AND service_id IS NOT DISTINCT FROM $3',
    [providerId, productId, serviceId],
  );
  return (res.rowCount ?? 0) > 0;
}

/** Replaces the whole card in one transaction: a failed import leaves the old card as it was. */
export async function importRateCard(pool: Pool, providerId: string, card: RateCard): Promise<void> {
  await inTransaction(pool, async (db) => {
    await db.query('DELETE FROM rate_rule WHERE provider_id = $1', [providerId]);
    await db.query(
      `INSERT INTO rate_card (provider_id, currency, default_markup_percent) VALUES ($1, $2, $3::numeric)
       ON CONFLICT (provider_id) DO UPDATE SET currency = EXCLUDED.currency, default_markup_percent = EXCLUDED.default_markup_percent, updated_at = now()`,
      [providerId, card.currency, card.defaultMarkupPercent ? decimalText(card.defaultMarkupPercent) : null],
    );
    for (const rule of card.rules) await setRateRule(db, providerId, rule);
  });
}

/** The card in domain.md's JSON shape, numbers written exactly (as JSON numbers). */
export function rateCardJson(card: RateCard): string {
  const num = (d: { toFixed(): string }) => d.toFixed();
  const rules = card.rules.map((r) => {
    const parts = [`"productId":"${r.productId}"`];
    if (r.serviceId) parts.push(`"serviceId":${JSON.stringify(r.serviceId)}`);
    parts.push(`"kind":"${r.kind}"`);
    if (r.value) parts.push(`"value":${num(r.value)}`);
    return `    {${parts.join(',')}}`;
  });
  const head = [`  "currency": "${card.currency}"`];
  if (card.defaultMarkupPercent) head.push(`  "defaultMarkupPercent": ${num(card.defaultMarkupPercent)}`);
  return `{\n${head.join(',\n')},\n  "rules": [\n${rules.join(',\n')}\n  ]\n}\n`;
}

export interface StoredRule {
  productId: string;
  serviceId: string | null;
  kind: string;
  value: string | null;
}

async function ruleOf(
  db: Queryable,
  providerId: string,
  productId: string,
  serviceId: string | null,
): Promise<StoredRule | null> {
  const res = await db.query<{ product_id: string; service_id: string | null; kind: string; value: string | null }>(
    'SELECT product_id, service_id, kind, value::text FROM rate_rule WHERE provider_id = $1 AND product_id = lower($2) AND service_id IS NOT DISTINCT FROM $3',
    [providerId, productId, serviceId],
  );
  const r = res.rows[0];
  return r ? { productId: r.product_id, serviceId: r.service_id, kind: r.kind, value: r.value } : null;
}

export interface RuleChange {
  old: StoredRule | null;
  new: StoredRule | null;
}

/**
 * Sets (rule) or removes (null) one rule and audits who changed what from what, in one
 * transaction: a rate change is never without its audit row, nor an audit row without its change.
 */
export async function changeRateRule(
  pool: Pool,
  providerId: string,
  currency: string,
  target: { productId: string; serviceId: string | null },
  rule: RateRule | null,
  audit: { actor: string; source: AuditSource; remoteAddr?: string | null },
): Promise<RuleChange> {
  return inTransaction(pool, async (db) => {
    // Serialises concurrent edits of one provider's card, so each audit row's "old" is what was replaced.
    await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`rate_card:${providerId}`]);
    const old = await ruleOf(db, providerId, target.productId, target.serviceId);
    if (rule) {
      await ensureRateCard(db, providerId, currency);
      await setRateRule(db, providerId, rule);
    } else if (old) {
      await removeRateRule(db, providerId, target.productId, target.serviceId);
    }
    const now = rule ? await ruleOf(db, providerId, rule.productId, rule.serviceId ?? null) : null;
    if (old || now) {
      await recordAudit(db, {
        actor: audit.actor,
        source: audit.source,
        kind: rule ? 'rate.set' : 'rate.remove',
        providerId,
        subject: `${target.productId.toLowerCase()}${target.serviceId ? ` on ${target.serviceId}` : ''}`,
        oldValue: old,
        newValue: now,
        remoteAddr: audit.remoteAddr,
      });
    }
    return { old, new: now };
  });
}

/** The default markup (null: none, unrated products are quarantined), audited like a rule. */
export async function changeDefaultMarkup(
  pool: Pool,
  providerId: string,
  currency: string,
  percent: string | null,
  audit: { actor: string; source: AuditSource; remoteAddr?: string | null },
): Promise<{ old: string | null; new: string | null }> {
  return inTransaction(pool, async (db) => {
    await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`rate_card:${providerId}`]);
    const before = await db.query<{ v: string | null }>(
      'SELECT default_markup_percent::text AS v FROM rate_card WHERE provider_id = $1',
      [providerId],
    );
    await ensureRateCard(db, providerId, currency, percent);
    const after = await db.query<{ v: string | null }>(
      'SELECT default_markup_percent::text AS v FROM rate_card WHERE provider_id = $1',
      [providerId],
    );
    const change = { old: before.rows[0]?.v ?? null, new: after.rows[0]?.v ?? null };
    await recordAudit(db, {
      actor: audit.actor,
      source: audit.source,
      kind: 'rate.default-markup',
      providerId,
      subject: 'default markup %',
      oldValue: change.old,
      newValue: change.new,
      remoteAddr: audit.remoteAddr,
    });
    return change;
  });
}
