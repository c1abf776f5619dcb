import type { Client } from '@temporalio/client';
import type { Pool } from '../db/pool';
import type { ProviderView } from '../db/providers';
import { serviceOwner } from '../db/services';
import { changeDefaultMarkup, changeRateRule, type RuleChange } from '../db/rates';
import type { AuditSource } from '../db/audit-events';
import { InputError, markupProblem, parseRateRule } from '../core/rate-card';
import type { RateRule } from '../core/rating';
import { Decimal } from '../core/money';
import { normalizeGuid, isGuid } from '../core/guid';
import { autoCleanse } from '../activities/quarantine-notify';
import { repricedOpenMonths, type RepricedMonth } from '../activities/rerate';
import { productCatalogue } from '../db/product-catalogue';
import { findProduct } from '../core/product-catalogue';

/**
 * Rate card edits, the same for `csp rates` and the web console: the same checks (core/rate-card),
 * the same "a service rule names one of this provider's services", an audit row with who, old and
 * new, and the quarantine groups the new rate may fix asked to cleanse themselves.
 */
export interface RateEditor {
  actor: string;
  source: AuditSource;
  remoteAddr?: string | null;
}

export interface RateEditDeps {
  pool: Pool;
  temporal: Client;
  taskQueue: string;
}

/** Raised with a message for the person editing (field names as `path` says). */
export class RateEditError extends Error {
  override name = 'RateEditError';
}

export interface RuleInput {
  productId?: unknown;
  serviceId?: unknown;
  kind?: unknown;
  value?: unknown;
}

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/**
 * The rule an edit asks for, checked (kinds, GUIDs, and the bounds of core/rate-card.ts: a value
 * whose charges could not be stored is refused here); RateEditError says what is wrong. Nothing
 * is read or written: the CLI checks with it before it connects anywhere.
 */
export function checkRuleInput(input: RuleInput): RateRule {
  try {
    return parseRateRule(
      {
        productId: input.productId,
        serviceId: blankToUndefined(input.serviceId),
        kind: input.kind,
        value: blankToUndefined(input.value),
      },
      'rule',
    );
  } catch (err) {
    if (err instanceof InputError) throw new RateEditError(err.message);
    throw err;
  }
}

/** A default markup as entered: a decimal percent within the bounds of core/rate-card.ts, or "none". */
export function checkMarkupInput(percent: string): string | null {
  const text = percent.trim();
  if (text === 'none') return null;
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new RateEditError('percent must be a decimal number or "none"');
  // The same bounds as a rule's markup: exact, never through a binary float.
  const refused = markupProblem(new Decimal(text));
  if (refused) throw new RateEditError(refused);
  return text;
}

export async function setRate(
  deps: RateEditDeps,
  provider: ProviderView,
  input: RuleInput,
  by: RateEditor,
): Promise<RuleChange & { cleansing: number; repriced: RepricedMonth[] }> {
  const rule = checkRuleInput({ ...input, productId: await productIdFor(deps.pool, provider.id, input.productId) });
  if (rule.serviceId) await requireOwnService(deps.pool, provider, rule.serviceId);
  const change = await changeRateRule(
    deps.pool,
    provider.id,
    provider.currency,
    { productId: rule.productId, serviceId: rule.serviceId ?? null },
    rule,
    by,
  );
  const groups = await autoCleanse(deps, provider.id, { kind: 'rateAdded', productId: rule.productId });
  const repriced = await repricedOpenMonths(deps.pool, provider.id, rule.productId);
  return { ...change, cleansing: groups.length, repriced };
}

export async function removeRate(
  deps: RateEditDeps,
  provider: ProviderView,
  productId: unknown,
  serviceId: unknown,
  by: RateEditor,
): Promise<RuleChange & { repriced: RepricedMonth[] }> {
  productId = await productIdFor(deps.pool, provider.id, productId);
  if (!isGuid(productId)) throw new RateEditError('rule.productId must be a product GUID');
  const service = typeof serviceId === 'string' && serviceId.trim() !== '' ? serviceId.trim() : null;
  const change = await changeRateRule(
    deps.pool,
    provider.id,
    provider.currency,
    { productId: normalizeGuid(productId), serviceId: service },
    null,
    by,
  );
  if (!change.old)
    throw new RateEditError(
      `no rule for product ${normalizeGuid(productId)}${service ? ` and service ${service}` : ''}`,
    );
  return { ...change, repriced: await repricedOpenMonths(deps.pool, provider.id, normalizeGuid(productId)) };
}

/**
 * A negative default markup bills every product without a rule below its cost: a typo ("-50" for
 * "50") would do that silently. It is accepted only when confirmed (`--allow-negative`, the
 * console's "allow a negative markup").
 */
export function negativeMarkupProblem(percent: string, allowNegative = false): string | null {
  if (allowNegative || !(Number(percent) < 0)) return null;
  return `a negative default markup (${percent}%) bills every product without a rule below its cost: confirm it with --allow-negative (in the console, tick "allow a negative markup")`;
}

export async function setDefaultMarkup(
  deps: RateEditDeps,
  provider: ProviderView,
  percent: string,
  by: RateEditor,
  opts: { allowNegative?: boolean } = {},
): Promise<{ old: string | null; new: string | null; cleansing: number; repriced: RepricedMonth[] }> {
  const value = checkMarkupInput(percent);
  const problem = value === null ? null : negativeMarkupProblem(value, opts.allowNegative);
  if (problem) throw new RateEditError(problem);
  const change = await changeDefaultMarkup(deps.pool, provider.id, provider.currency, value, by);
  const groups = value === null ? [] : await autoCleanse(deps, provider.id, { kind: 'rateAdded', productId: null });
  return { ...change, cleansing: groups.length, repriced: await repricedOpenMonths(deps.pool, provider.id, null) };
}

/** The product GUID a name or GUID stands for among the provider's products; RateEditError names the candidates. */
export async function productIdFor(pool: Pool, providerId: string, ref: unknown): Promise<unknown> {
  if (typeof ref !== 'string') return ref;
  const found = findProduct(await productCatalogue(pool, providerId), ref);
  if (!found.ok) throw new RateEditError(found.problem);
  return found.product.productId;
}

async function requireOwnService(pool: Pool, provider: ProviderView, serviceId: string): Promise<void> {
  if ((await serviceOwner(pool, serviceId)) !== provider.id)
    throw new RateEditError(`service ${serviceId} is not a service of ${provider.id}`);
}
