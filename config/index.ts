import { z } from 'zod';
import { existsSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';

/**
 * The one place the environment is read. A bad value stops start-up with the variable's name
 * and what was expected; every variable here is documented in the README.
 */
// The folder holding package.json: one up from config/ in the sources, two up from dist/config/
// in the compiled build (npm run build), so .data, .tools and package.json are found from both.
function projectRoot(): string {
  let dir = path.resolve(__dirname, '..');
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}
const ROOT = projectRoot();

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');
const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM');
const flag = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');

/**
 * EMBEDDED_PG_SHARED_BUFFERS_MB: the embedded PostgreSQL's buffer cache, in MB (default 128). Modest,
 * because tests and benchmarks start several servers on one machine; a machine of its own running a
 * large usage pipeline may give it up to a quarter of its memory. Exported for db/embedded.ts, which
 * starts servers where no Config is at hand (tests, benchmarks).
 */
export const embeddedSharedBuffersMb = z.coerce.number().int().min(16).max(65_536).default(128);

/** EMBEDDED_PG_SHARED_BUFFERS_MB from the environment, for an embedded server started without a Config. */
export function embeddedSharedBuffersFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return embeddedSharedBuffersMb.parse(env.EMBEDDED_PG_SHARED_BUFFERS_MB || undefined);
}

/**
 * CONSOLE_TRUSTED_PROXY: the addresses (comma-separated) of reverse proxies in front of the console
 * whose X-Forwarded-For is believed. Unset: the client address is the connection's, and the header
 * is ignored (anyone could write it).
 */
/** A comma-separated setting: its items trimmed, empty ones dropped, each checked by `item`. */
const commaList = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));

const addressList = commaList(z.string().refine((a) => net.isIP(a) !== 0, 'must be IP addresses'));

export const configSchema = z.object({
  DATA_DIR: z.string().min(1).default(path.join(ROOT, '.data')),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  // Migrations as this role (the schema's owner) when set; DATABASE_URL is then the application role
  // (db/roles.sql). Unset: DATABASE_URL's role migrates and runs.
  DATABASE_OWNER_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  EMBEDDED_PG_PORT: port.default(54329),
  EMBEDDED_PG_SHARED_BUFFERS_MB: embeddedSharedBuffersMb,
  DB_CONNECT_TIMEOUT_MS: positiveInt.default(10_000),
  DB_STATEMENT_TIMEOUT_MS: positiveInt.default(300_000),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'must be host:port')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_CLI_PATH: z.string().optional(),
  TEMPORAL_TLS_CA_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_CERT_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TASK_QUEUE: z.string().min(1).default('csp-billing'),
  RHIPE_IDENTITY_URL: httpUrl.optional(),
  RHIPE_API_URL: httpUrl.optional(),
  SIMULATOR_PORT: port.default(8787),
  SIMULATOR_RECORDS: z.coerce.number().int().min(0).default(2000),
  CARRIER_TIMEOUT_MS: positiveInt.default(30_000),
  // How long the CLI and the console wait on a workflow's answer (workflows/admin-wait.ts reads it).
  ADMIN_WAIT_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  USAGE_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(1000),
  USAGE_LOOKBACK_MONTHS: z.coerce.number().int().min(0).max(24).default(1),
  CYCLE_TIMES: z
    .string()
    .default('06:00,18:00')
    .transform((s) => s.split(',').map((t) => t.trim()))
    .pipe(z.array(timeOfDay).min(1)),
  DEFAULT_TIME_ZONE: z
    .string()
    .default('Australia/Sydney')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone such as Australia/Sydney'),
  RECONCILE_INTERVAL_HOURS: positiveInt.default(24),
  // Month end: each provider's invoice reconciliation runs monthly on this day and time (its time zone).
  INVOICE_RECONCILE_DAY: z.coerce.number().int().min(1).max(28).default(7),
  INVOICE_RECONCILE_TIME: timeOfDay.default('09:00'),
  ENCRYPTION_KEY: z
    .string()
    .refine((k) => Buffer.from(k, 'base64').length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)')
    .optional(),
  ENCRYPTION_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, _ or -')
    .default('k1'),
  ENCRYPTION_OLD_KEYS: z
    .string()
    .default('')
    .refine(
      (s) =>
        s === '' ||
        s
          .split(',')
          .every((p) => /^[A-Za-z0-9_-]{1,32}:/.test(p) && Buffer.from(p.split(':')[1] ?? '', 'base64').length === 32),
      'must be a comma-separated list of id:base64key, each key 32 bytes',
    ),
  CONSOLE_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  CONSOLE_HOST: z.string().min(1).default('127.0.0.1'),
  CONSOLE_SECURE_COOKIES: flag.default(false),
  // Failed sign-ins a minute, per user name and (far more) per client address (client/console/auth.ts).
  CONSOLE_LOGIN_ATTEMPTS_PER_MINUTE: positiveInt.default(10),
  CONSOLE_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE: positiveInt.default(100),
  CONSOLE_TRUSTED_PROXY: addressList,
  TEMPORAL_UI_URL: httpUrl.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  WORKFLOW_BUNDLE: z.string().min(1).optional(),
  CYCLE_ONCE: flag.default(false),
  // Operations (README "Operations"): the metrics endpoint and where alerts go.
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  ALERT_WEBHOOK_URLS: commaList(httpUrl),
  ALERT_WEBHOOK_FORMAT: z.enum(['slack', 'teams']).default('slack'),
  ALERT_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL')
    .optional(),
  ALERT_EMAIL_FROM: z.string().email().default('csp-billing@localhost'),
  ALERT_EMAIL_TO: commaList(z.string().email()),
  ALERT_EVALUATE_EVERY_MINUTES: z.coerce.number().int().min(1).max(1440).default(5),
  ALERT_GIVE_UP_HOURS: positiveInt.default(24),
});

export type Config = z.infer<typeof configSchema>;

/** The carrier's base URLs: configured, or the simulator on loopback (the default carrier). */
export function carrierUrls(cfg: Config): { identityUrl: string; apiUrl: string } {
  const simulator = `http://127.0.0.1:${cfg.SIMULATOR_PORT}`;
  return {
    identityUrl: cfg.RHIPE_IDENTITY_URL ?? cfg.RHIPE_API_URL ?? simulator,
    apiUrl: cfg.RHIPE_API_URL ?? simulator,
  };
}

/** Alert delivery channels from configuration. */
export function alertChannels(cfg: Config): {
  webhookUrls: string[];
  webhookFormat: 'slack' | 'teams';
  email: { smtpUrl: string; from: string; to: string[] } | null;
  giveUpHours: number;
} {
  return {
    webhookUrls: cfg.ALERT_WEBHOOK_URLS,
    webhookFormat: cfg.ALERT_WEBHOOK_FORMAT,
    email:
      cfg.ALERT_SMTP_URL && cfg.ALERT_EMAIL_TO.length > 0
        ? { smtpUrl: cfg.ALERT_SMTP_URL, from: cfg.ALERT_EMAIL_FROM, to: cfg.ALERT_EMAIL_TO }
        : null,
    giveUpHours: cfg.ALERT_GIVE_UP_HOURS,
  };
}

/** When each provider's monthly invoice reconciliation runs. */
export function reconciliationTiming(cfg: Config): { dayOfMonth: number; time: string } {
  return { dayOfMonth: cfg.INVOICE_RECONCILE_DAY, time: cfg.INVOICE_RECONCILE_TIME };
}

export function usesSimulator(cfg: Config): boolean {
  return !cfg.RHIPE_API_URL;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(present);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const name = i.path.join('.');
      const value = env[name];
      const shown = value === undefined || /KEY|SECRET|PASSWORD|URL/.test(name) ? '' : ` (got "${value}")`;
      return `${name}: ${i.message}${shown}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return result.data;
}

export const PROJECT_ROOT = ROOT;
