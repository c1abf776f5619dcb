-- The two roles csp-billing uses on an external PostgreSQL (DATABASE_URL / DATABASE_OWNER_URL).
-- The embedded PostgreSQL makes the same roles itself (db/embedded.ts, db/roles.ts).
--
-- Run once as a superuser (or a role with CREATEROLE and CREATEDB), e.g.
--   psql "postgres://postgres@db.example/postgres" -v owner_password="'…'" -v app_password="'…'" -f db/roles.sql
-- then configure
--   DATABASE_OWNER_URL=postgres://csp_owner:…@db.example/csp   (migrations, at every start)
--   DATABASE_URL=postgres://csp_app:…@db.example/csp           (the worker, the CLI, the console)
-- At every start the system migrates as the owner, then grants the application role what it
-- uses (db/roles.ts, grantAppPrivileges): SELECT, INSERT, UPDATE, DELETE on the tables (only
-- SELECT, INSERT on the audit trails), USAGE and SELECT on the sequences; nothing on
-- pgmigrations. It never gets TRUNCATE, DDL, TEMP, or the server-file roles.

-- The owner: owns the database, its schema and tables; runs the migrations. Not a superuser.
CREATE ROLE csp_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :owner_password;

-- The application role: owns nothing.
CREATE ROLE csp_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :app_password;

CREATE DATABASE csp OWNER csp_owner;
-- Only the application role (besides the owner) may connect; no one else gets TEMP.
REVOKE ALL ON DATABASE csp FROM PUBLIC;
GRANT CONNECT ON DATABASE csp TO csp_app;

\connect csp
-- PostgreSQL 15 and later: the public schema belongs to the database owner and PUBLIC may not
-- create in it. Earlier versions: make it so.
ALTER SCHEMA public OWNER TO csp_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO csp_app;
