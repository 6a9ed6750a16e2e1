#!/usr/bin/env bash
# Installs what the agent's end-to-end tests drive: Apache httpd (serving on
# loopback with a combined-format access log) and logrotate (rotating that
# log with create and with copytruncate). Idempotent: apt runs only when a
# program is missing.
set -euo pipefail
missing=()
[ -x /usr/sbin/apache2 ] || missing+=(apache2)
[ -x /usr/sbin/logrotate ] || missing+=(logrotate)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
echo "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
