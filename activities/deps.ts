import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool';
import type { PageSaver } from '../db/page-saver';
import type { Keyring } from '../config/secrets';
import type { CarrierEndpoints } from '../carrier/client';
import { RhipeClient } from '../carrier/client';
import { getProvider } from '../db/providers';
import { ApplicationFailure } from '@temporalio/activity';
import type { AlertChannels } from '../notify/channels';
import type { ReconciliationTiming } from '../workflows/invoice-reconciliation.api';

/** What activities run against; built once per worker process (workers/main.ts). */
export interface ActivityDeps {
  pool: Pool;
  /** Stores the usage cycle's decided pages (a thread of its own in a worker process). */
  pageSaver: PageSaver;
  keyring: Keyring;
  carrier: CarrierEndpoints;
  temporal: Client;
  taskQueue: string;
  log: Logger;
  usagePageSize: number;
  lookbackMonths: number;
  reconcileIntervalHours: number;
  /** Where alerts are delivered; none configured: alerts are recorded and shown, not sent. */
  alerts?: AlertChannels;
  /** When the monthly invoice reconciliation runs; absent, day 7 at 09:00. */
  invoiceReconciliation?: ReconciliationTiming;
}

/**
 * A carrier client for a provider: the secret is decrypted here, inside the activity, and
 * lives only in this process's memory. Workflows only ever hold the provider id.
 */
export async function carrierFor(deps: ActivityDeps, providerId: string): Promise<RhipeClient> {
  const provider = await getProvider(deps.pool, providerId);
  if (!provider) throw ApplicationFailure.nonRetryable(`provider ${providerId} does not exist`, 'PROVIDER_NOT_FOUND');
  if (provider.status === 'REMOVED')
    throw ApplicationFailure.nonRetryable(`provider ${providerId} was removed`, 'PROVIDER_REMOVED');
  return new RhipeClient(deps.carrier, {
    clientId: provider.client_id,
    clientSecret: deps.keyring.decrypt(provider.secret_ciphertext),
  });
}
