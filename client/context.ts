import { Client, Connection } from '@temporalio/client';
import { carrierUrls, ConfigError, loadConfig, type Config } from '../config';
import { temporalTls } from '../config/temporal-tls';
import { keyringFromConfig } from '../config/secrets';
import { assertDatabaseAnswers, createPool, DatabaseUnavailableError, type Pool } from '../db/pool';
import { embeddedUrlFor, portOpen } from '../db/embedded';
import { KeyMismatchError, verifyKeyring } from '../db/encryption-keys';
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
        throw new UserError(
          `PostgreSQL is not running on 127.0.0.1:${this.cfg.EMBEDDED_PG_PORT}: start the system first ("npm start"), or set DATABASE_URL`,
          3,
        );
      }
      const embedded = embeddedUrlFor(this.cfg.DATA_DIR, this.cfg.EMBEDDED_PG_PORT, 'csp');
      if (!embedded) {
        throw new UserError(
          `a PostgreSQL runs on 127.0.0.1:${this.cfg.EMBEDDED_PG_PORT}, but ${this.cfg.DATA_DIR} holds no embedded database password: run this command with the system's DATA_DIR, or set DATABASE_URL`,
          3,
        );
      }
      url = embedded;
    }
    try {
      await assertDatabaseAnswers(url, this.cfg.DB_CONNECT_TIMEOUT_MS);
    } catch (err) {
      if (err instanceof DatabaseUnavailableError) throw new UserError(err.message, 3);
      throw err;
    }
    this.pool = createPool(url, 4, {
      connectTimeoutMs: this.cfg.DB_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: this.cfg.DB_STATEMENT_TIMEOUT_MS,
    });
    return this.pool;
  }

  async temporal(): Promise<Client> {
    if (this.client) return this.client;
    const address = this.cfg.TEMPORAL_ADDRESS ?? `127.0.0.1:${this.cfg.TEMPORAL_PORT}`;
    try {
      this.connection = await Connection.connect({ address, tls: temporalTls(this.cfg), connectTimeout: '5 seconds' });
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new UserError(
        `Temporal is not reachable at ${address}: start the system first ("npm start"), or set TEMPORAL_ADDRESS`,
        3,
      );
    }
    this.client = new Client({ connection: this.connection, namespace: this.cfg.TEMPORAL_NAMESPACE });
    return this.client;
  }

  async providerContext(): Promise<ProviderContext> {
    const pool = await this.db();
    const keyring = keyringFromConfig(this.cfg);
    try {
      await verifyKeyring(pool, keyring);
    } catch (err) {
      if (err instanceof KeyMismatchError) throw new UserError(err.message, 2);
      throw err;
    }
    return {
      pool,
      keyring,
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
