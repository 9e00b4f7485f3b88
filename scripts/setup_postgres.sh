#!/usr/bin/env bash
# Install the PostgreSQL 15 server and PostGIS 3 from Debian's packages, which the registry
# tests run a throwaway server from (tests/registry/postgres.py); a no-op when installed.
# Needs root (apt-get); otherwise says what to install.
set -euo pipefail

PACKAGES="postgresql postgresql-15-postgis-3"
BIN=/usr/lib/postgresql/15/bin
POSTGIS=/usr/share/postgresql/15/extension/postgis.control

if [ -x "$BIN/initdb" ] && [ -x "$BIN/pg_ctl" ] && [ -f "$POSTGIS" ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "error: PostgreSQL 15 with PostGIS 3 is not installed; install the Debian packages" \
         "as root: apt-get install $PACKAGES" >&2
    exit 1
fi
echo "setup: installing $PACKAGES with apt-get" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PACKAGES >/dev/null
# The tests start their own server in a temporary folder; Debian's own cluster is not needed.
