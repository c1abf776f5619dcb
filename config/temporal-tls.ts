import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { ConfigError, type Config } from './index';

/**
 * TLS towards a Temporal frontend that requires it (docker-compose.yml's production shape: TLS on
 * the frontend, client certificates required). Only for a configured TEMPORAL_ADDRESS: the local
 * dev server that `npm start` runs speaks plain gRPC on loopback.
 */
export function temporalTls(cfg: Config): TLSConfig | undefined {
  if (!cfg.TEMPORAL_ADDRESS) return undefined;
  const {
    TEMPORAL_TLS_CA_FILE: ca,
    TEMPORAL_TLS_CERT_FILE: cert,
    TEMPORAL_TLS_KEY_FILE: key,
    TEMPORAL_TLS_SERVER_NAME: serverName,
  } = cfg;
  if (!ca && !cert && !key && !serverName) return undefined;
  if (!!cert !== !!key)
    throw new ConfigError(
      'invalid configuration:\n  TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE: set both (a client certificate and its key) or neither',
    );
  const read = (name: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(
        `invalid configuration:\n  ${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  };
  return {
    ...(serverName ? { serverNameOverride: serverName } : {}),
    ...(ca ? { serverRootCACertificate: read('TEMPORAL_TLS_CA_FILE', ca) } : {}),
    ...(cert && key
      ? { clientCertPair: { crt: read('TEMPORAL_TLS_CERT_FILE', cert), key: read('TEMPORAL_TLS_KEY_FILE', key) } }
      : {}),
  };
}
