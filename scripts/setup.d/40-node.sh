#!/usr/bin/env bash
# Installs what the Node SDK v3 end-to-end test (e2e/node_test.go) runs:
# Node.js with npm (apt, only when missing) and e2e/node's pinned packages
# (npm ci from package-lock.json, only when node_modules is missing).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing nodejs npm"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends nodejs npm
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  echo "node $(node --version) is too old for @aws-sdk/client-kinesis (needs >= 20)" >&2
  exit 1
fi
if [ ! -d "$root/e2e/node/node_modules/@aws-sdk/client-kinesis" ]; then
  (cd "$root/e2e/node" && npm ci --no-audit --no-fund)
fi
