import { Client, Connection } from '@temporalio/client';
import { carrierUrls, loadConfig, type Config } from '../config';
import { keyringFromConfig } from '../config/secrets';
import { createPool, type Pool } from '../db/pool';
import { embeddedUrl, portOpen } from '../db/embedded';
import type { ProviderContext } from './providers';
import { UserError } from './errors';

/** What a CLI command runs against: the same database and Temporal as the system, connected lazily. */
export class CliContext {
  readonly cfg: Config;
  private pool?: Pool;
  private connection?: Connection;
  private client?: Client;

  constructor() {
    this.cfg = loadConfig();
  }

  async db(): Promise<Pool> {
    if (this.pool) return this.pool;
    let url = this.cfg.DATABASE_URL;
    if (!url) {
      if (!(await portOpen(this.cfg.EMBEDDED_PG_PORT))) {
        throw new UserError(`PostgreSQL is not running on 127.0.0.1:${this.cfg.EMBEDDED_PG_PORT}: start the system with "npm start", or set DATABASE_URL`, 3);
      }
      url = embeddedUrl(this.cfg.EMBEDDED_PG_PORT, 'csp');
    }
    this.pool = createPool(url, 4);
    return this.pool;
  }

  async temporal(): Promise<Client> {
    if (this.client) return this.client;
    const address = this.cfg.TEMPORAL_ADDRESS ?? `127.0.0.1:${this.cfg.TEMPORAL_PORT}`;
    try {
      this.connection = await Connection.connect({ address, connectTimeout: '5 seconds' });
    } catch {
      throw new UserError(`Temporal is not reachable at ${address}: start the system with "npm start", or set TEMPORAL_ADDRESS`, 3);
    }
    this.client = new Client({ connection: this.connection, namespace: this.cfg.TEMPORAL_NAMESPACE });
    return this.client;
  }

  async providerContext(): Promise<ProviderContext> {
    return {
      pool: await this.db(),
      keyring: keyringFromConfig(this.cfg),
      carrier: { ...carrierUrls(this.cfg), timeoutMs: this.cfg.CARRIER_TIMEOUT_MS },
      temporal: await this.temporal(),
      taskQueue: this.cfg.TASK_QUEUE,
    };
  }

  async close(): Promise<void> {
    await this.pool?.end().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
  }
}
