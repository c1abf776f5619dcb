#!/usr/bin/env bash
# Run by the postgres image once, when its data folder is first made (/docker-entrypoint-initdb.d):
# creates csp-billing's two roles and its database from db/roles.sql, with the passwords compose
# passes in (letters and digits: they are written into SQL literals).
set -euo pipefail
for v in CSP_OWNER_PASSWORD CSP_APP_PASSWORD; do
  if [[ ! "${!v}" =~ ^[A-Za-z0-9]{16,}$ ]]; then
    echo "compose-roles: $v must be at least 16 letters or digits" >&2
    exit 2
  fi
done
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="'$CSP_OWNER_PASSWORD'" -v app_password="'$CSP_APP_PASSWORD'" \
  -f /csp/roles.sql
