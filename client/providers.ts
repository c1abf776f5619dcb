import type { Client } from '@temporalio/client';
import type { Pool } from '../db/pool';
import type { Keyring } from '../config/secrets';
import { RhipeClient, type CarrierEndpoints } from '../carrier/client';
import { CarrierError } from '../carrier/errors';
import { checkCredentialShape } from '../core/credentials';
import {
  getProvider,
  insertProvider,
  listSealedSecrets,
  markProviderRemoved,
  reinstateProvider,
  replaceSealedSecret,
  updateProviderSecret,
  view,
  type ProviderView,
} from '../db/providers';
import { ensureRateCard } from '../db/rates';
import {
  startOnboarding,
  type OnboardingHandle,
  type OnboardingResult,
  type OnboardingTuning,
} from '../workflows/onboarding.api';
import { waitForWorkflow } from './workflow-failure';
import { stopTenantWorkflow } from '../workflows/tenant.api';
import { deleteUsageSchedule } from '../workflows/usage-cycle.api';
import { deleteInvoiceReconciliationSchedule } from '../workflows/invoice-reconciliation.api';
import { listServices } from '../db/services';
import { UserError } from './errors';

export interface ProviderContext {
  pool: Pool;
  keyring: Keyring;
  carrier: CarrierEndpoints;
  temporal: Client;
  taskQueue: string;
}

export interface NewProvider {
  name: string;
  clientId: string;
  clientSecret: string;
  currency: string;
  timeZone: string;
  cycleTimes: string[];
}

/** Checks what needs no connection at all (name, currency, the credentials' shape). */
export function checkNewProvider(p: Pick<NewProvider, 'name' | 'currency' | 'clientId' | 'clientSecret'>): void {
  if (p.name.trim() === '') throw new UserError('--name must not be empty');
  if (!/^[A-Za-z]{3}$/.test(p.currency)) throw new UserError('--currency must be a 3-letter code such as AUD');
  const shape = checkCredentialShape(p.clientId, p.clientSecret);
  if (shape) throw new UserError(shape);
}

export interface StartedOnboarding {
  provider: ProviderView;
  /** True when an earlier, unfinished onboarding of the same client_id is continued. */
  resumed: boolean;
  handle: OnboardingHandle;
}

/**
 * Onboarding, in the order that keeps mistakes cheap: the credentials' shape (no network), then
 * a token from the carrier (wrong credentials: nothing stored), then the encrypted row, the rate
 * card, and the onboarding workflow (services, tenant workflows, usage schedule), which keeps
 * running whatever happens to the caller. The same client_id again continues an unfinished
 * onboarding; a finished one is refused as a duplicate.
 */
export async function startAddProvider(
  ctx: ProviderContext,
  p: NewProvider,
  tuning?: OnboardingTuning,
): Promise<StartedOnboarding> {
  checkNewProvider(p);
  const clientId = p.clientId.trim().toLowerCase();
  const secret = p.clientSecret.trim();
  const existing = await getProvider(ctx.pool, clientId);
  const unfinished = existing && existing.status !== 'REMOVED' && existing.onboarded_at === null;
  if (existing && existing.status !== 'REMOVED' && !unfinished) {
    throw new UserError(
      `client_id ${clientId} is already onboarded as ${existing.id} (${existing.name}); "provider discover ${existing.id}" reads its tenants again`,
    );
  }
  await verifyCredentials(ctx.carrier, clientId, secret);
  const provider = existing
    ? await reinstate(ctx, existing.id, clientId, secret)
    : await insertProvider(ctx.pool, {
        ...p,
        name: p.name.trim(),
        clientId,
        secretCiphertext: ctx.keyring.encrypt(secret),
      });
  await ensureRateCard(ctx.pool, provider.id, provider.currency);
  return { provider, resumed: !!unfinished, handle: await startOnboarding(ctx, provider.id, tuning) };
}

/** Onboards and waits for the onboarding to finish. */
export async function addProvider(
  ctx: ProviderContext,
  p: NewProvider,
  tuning?: OnboardingTuning,
): Promise<{ provider: ProviderView; onboarding: OnboardingResult }> {
  const started = await startAddProvider(ctx, p, tuning);
  return { provider: started.provider, onboarding: await waitForWorkflow(started.handle) };
}

async function reinstate(ctx: ProviderContext, id: string, clientId: string, secret: string): Promise<ProviderView> {
  await updateProviderSecret(ctx.pool, id, clientId, ctx.keyring.encrypt(secret));
  await reinstateProvider(ctx.pool, id);
  return view((await getProvider(ctx.pool, id))!);
}

/** Asks the carrier for a token. Wrong credentials are the admin's to fix: said plainly. */
export async function verifyCredentials(
  carrier: CarrierEndpoints,
  clientId: string,
  clientSecret: string,
): Promise<void> {
  try {
    await new RhipeClient(carrier, { clientId, clientSecret }).token(true);
  } catch (err) {
    if (err instanceof CarrierError && err.code === 'INVALID_CLIENT') {
      throw new UserError(
        'wrong credentials: the carrier rejected this client_id/client_secret (invalid_client); nothing was stored',
      );
    }
    if (err instanceof CarrierError)
      throw new UserError(`could not verify the credentials with the carrier: ${err.message}; nothing was stored`, 3);
    throw err;
  }
}

/** Discovery again (or the first one, resumed): attaches to a running onboarding and waits for it. */
export async function runOnboarding(
  ctx: ProviderContext,
  providerId: string,
  tuning?: OnboardingTuning,
): Promise<OnboardingResult> {
  return waitForWorkflow(await startOnboarding(ctx, providerId, tuning));
}

export async function updateCredentials(
  ctx: ProviderContext,
  providerRef: string,
  clientId: string,
  clientSecret: string,
): Promise<ProviderView> {
  const provider = await getProvider(ctx.pool, providerRef);
  if (!provider || provider.status === 'REMOVED') throw new UserError(`no provider "${providerRef}"`);
  const shape = checkCredentialShape(clientId, clientSecret);
  if (shape) throw new UserError(shape);
  await verifyCredentials(ctx.carrier, clientId.trim().toLowerCase(), clientSecret.trim());
  await updateProviderSecret(
    ctx.pool,
    provider.id,
    clientId.trim().toLowerCase(),
    ctx.keyring.encrypt(clientSecret.trim()),
  );
  const { secret_ciphertext: _s, ...view } = (await getProvider(ctx.pool, provider.id))!;
  return view;
}

/** Stops the provider's schedule and tenant workflows; its services, usage and audit trail stay. */
export async function removeProvider(ctx: ProviderContext, providerRef: string): Promise<ProviderView> {
  const provider = await getProvider(ctx.pool, providerRef);
  if (!provider || provider.status === 'REMOVED') throw new UserError(`no provider "${providerRef}"`);
  await deleteUsageSchedule(ctx.temporal, provider.id);
  await deleteInvoiceReconciliationSchedule(ctx.temporal, provider.id);
  for (const s of await listServices(ctx.pool, provider.id)) {
    await stopTenantWorkflow(ctx.temporal, { providerId: provider.id, tenantId: s.tenant_id }, 'provider removed');
  }
  await markProviderRemoved(ctx.pool, provider.id);
  const { secret_ciphertext: _s, ...view } = (await getProvider(ctx.pool, provider.id))!;
  return view;
}

/** Re-encrypts every stored secret with the current key (after adding a new ENCRYPTION_KEY). */
export async function rotateSecrets(ctx: ProviderContext): Promise<number> {
  let n = 0;
  for (const r of await listSealedSecrets(ctx.pool)) {
    if (ctx.keyring.keyIdOf(r.secretCiphertext) === ctx.keyring.currentKeyId) continue;
    await replaceSealedSecret(
      ctx.pool,
      r.id,
      r.secretCiphertext,
      ctx.keyring.encrypt(ctx.keyring.decrypt(r.secretCiphertext)),
    );
    n++;
  }
  return n;
}
