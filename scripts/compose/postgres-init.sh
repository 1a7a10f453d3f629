#!/usr/bin/env bash
# Runs once, when the postgres container initialises an empty volume. The app gets its own
# role that is not a superuser, so the audit trail's REVOKE UPDATE/DELETE binds it.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     --set=app_password="$DUCHAA_DB_PASSWORD" <<'SQL'
CREATE ROLE duchaa LOGIN PASSWORD :'app_password';
CREATE DATABASE duchaa OWNER duchaa;
SQL
