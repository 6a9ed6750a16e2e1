#!/usr/bin/env bash
# Installs PostgreSQL, the real PostgreSQL-protocol warehouse the Firehose
# Redshift-destination tests start on loopback (initdb + postgres in a temp
# dir, as the postgres user). Idempotent: does nothing when initdb is there.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; then
  exit 0
fi
echo "installing postgresql from apt"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql >/dev/null
