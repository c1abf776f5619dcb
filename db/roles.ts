import pg from 'pg';

/**
 * The two database roles (README "Security", db/roles.sql for an external PostgreSQL):
 *
 * - the **owner** (`csp_owner` when embedded) owns the database, its schema and every table;
 *   migrations run as it. It is not a superuser.
 * - the **application role** (`csp_app` when embedded) is what the worker, the CLI and the console
 *   connect as: NOSUPERUSER NOCREATEDB NOCREATEROLE, owning nothing, with only the table privileges
 *   the code uses (no TRUNCATE, no DDL, no TEMP) and none of the server-file roles, so it cannot
 *   read or write server files or run programs (`COPY … PROGRAM`, `pg_read_file`).
 *
 * The superuser (`postgres`) is used only to set these up (embedded: at every start, idempotently).
 */
export const OWNER_ROLE = 'csp_owner';
export const APP_ROLE = 'csp_app';

/** Tables the application only appends to and reads: the audit trails. */
export const APPEND_ONLY_TABLES = ['audit_event', 'billing_period_event', 'licence_event'] as const;

const IDENT = /^[a-z_][a-z0-9_]*$/;

function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`role or database name "${name}" must be lower-case letters, digits and _`);
  return name;
}

/** The user name in a postgres:// URL. */
export function roleOf(databaseUrl: string): string {
  return decodeURIComponent(new URL(databaseUrl).username);
}

/**
 * As the superuser: the owner and application roles exist with these passwords and no more than
 * login (an existing role is brought back to that, so a role given more by hand loses it).
 */
export async function ensureRoles(
  superuserUrl: string,
  roles: Array<{ name: string; password: string }>,
): Promise<void> {
  const client = new pg.Client({ connectionString: superuserUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for (const { name, password } of roles) {
      const role = ident(name);
      const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      const attributes = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS';
      const pw = client.escapeLiteral(password);
      if (exists.rowCount === 0)
        await client.query(`CREATE ROLE ${role} ${attributes} PASSWORD ${pw}`).catch((e: { code?: string }) => {
          if (e.code !== '42710') throw e; // created meanwhile by another start
        });
      await client.query(`ALTER ROLE ${role} ${attributes} PASSWORD ${pw}`);
      for (const builtin of ['pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program'])
        await client.query(`REVOKE ${builtin} FROM ${role}`);
    }
  } finally {
    await client.end();
  }
}

/**
 * As the superuser: `name` exists and belongs to `owner`, with every object in its public schema
 * too (a database created before the roles existed is adopted in place), and only `app` besides
 * the owner may connect to it (no TEMP for anyone else).
 */
export async function ensureOwnedDatabase(
  superuserUrl: string,
  name: string,
  owner: string,
  app: string,
): Promise<void> {
  const db = ident(name);
  const own = ident(owner);
  const admin = new pg.Client({ connectionString: superuserUrl });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
    if (exists.rowCount === 0)
      await admin.query(`CREATE DATABASE ${db} OWNER ${own}`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e;
      });
    await admin.query(`ALTER DATABASE ${db} OWNER TO ${own}`);
    await admin.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
    await admin.query(`GRANT CONNECT ON DATABASE ${db} TO ${ident(app)}`);
  } finally {
    await admin.end();
  }
  const u = new URL(superuserUrl);
  u.pathname = `/${db}`;
  const inDb = new pg.Client({ connectionString: u.toString() });
  inDb.on('error', () => undefined);
  await inDb.connect();
  try {
    // Objects made by the superuser (migrations run as it before the roles existed) pass to the owner.
    await inDb.query(`
      DO $$
      DECLARE r record;
      BEGIN
        ALTER SCHEMA public OWNER TO ${own};
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
        FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
                    AND pg_get_userbyid(c.relowner) <> '${own}'
        LOOP
          BEGIN
            EXECUTE format('ALTER TABLE public.%I OWNER TO ${own}', r.relname);
          EXCEPTION WHEN feature_not_supported OR object_not_in_prerequisite_state OR wrong_object_type THEN
            NULL; -- a sequence owned by a column follows its table
          END;
        END LOOP;
        FOR r IN SELECT p.oid::regprocedure AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> '${own}'
        LOOP
          EXECUTE format('ALTER ROUTINE %s OWNER TO ${own}', r.sig);
        END LOOP;
        FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                  WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0
                    AND pg_get_userbyid(t.typowner) <> '${own}'
        LOOP
          EXECUTE format('ALTER TYPE public.%I OWNER TO ${own}', r.typname);
        END LOOP;
      END $$`);
  } finally {
    await inDb.end();
  }
}

/**
 * As the owner, after migrations (so new tables are covered): the application role may read and
 * write every table, only read and append to the audit trails, use the sequences, and nothing on
 * the migrations' own table. Idempotent; run at every start.
 */
export async function grantAppPrivileges(ownerUrl: string, app: string): Promise<void> {
  const role = ident(app);
  const client = new pg.Client({ connectionString: ownerUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('BEGIN');
    // One at a time: workers starting together would otherwise collide on the catalog rows.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('csp-billing:grants'))`);
    await client.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}`);
    await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`);
    const appendOnly = await client.query<{ t: string }>(
      `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY($1)`,
      [APPEND_ONLY_TABLES],
    );
    for (const { t } of appendOnly.rows) await client.query(`REVOKE UPDATE, DELETE ON public.${ident(t)} FROM ${role}`);
    await client.query(`REVOKE ALL ON public.pgmigrations FROM ${role}`).catch(() => undefined);
    await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}

/**
 * Migrations as the owner, then the application role's grants when it is another role. With one
 * URL only (DATABASE_URL without DATABASE_OWNER_URL) that role migrates and runs, as before.
 */
export async function migrateAndGrant(
  urls: { ownerUrl: string; appUrl: string },
  migrate: (url: string) => Promise<string[]>,
): Promise<string[]> {
  const applied = await migrate(urls.ownerUrl);
  const app = roleOf(urls.appUrl);
  if (app !== roleOf(urls.ownerUrl)) await grantAppPrivileges(urls.ownerUrl, app);
  return applied;
}
