#!/usr/bin/env bash
# Installs the npm clients the producer/consumer end-to-end tests run
# (e2e/kpl_test.go, e2e/lifion_test.go): e2e/kplnode's pinned packages
# (aws-kinesis-agg, lifion-kinesis) from package-lock.json, only when a
# package is missing. Node itself comes from 40-node.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
if ! command -v npm >/dev/null; then
  echo "npm missing: 40-node.sh installs it" >&2
  exit 1
fi
if [ ! -d "$root/e2e/kplnode/node_modules/aws-kinesis-agg" ] || [ ! -d "$root/e2e/kplnode/node_modules/lifion-kinesis" ]; then
  (cd "$root/e2e/kplnode" && npm ci --no-audit --no-fund)
fi
