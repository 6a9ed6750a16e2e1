#!/usr/bin/env bash
# Installs what the Lambda Node handler test (e2e/lambda_test.go,
# TestLambdaNodeHandler) runs: aws-lambda-ric from e2e/lambda-node's lock
# file (npm ci, only when missing). The package compiles its native client
# at install time, which needs cmake, autotools and a C++ compiler (apt,
# only when missing). Node itself comes from 40-node.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
if [ -e "$root/e2e/lambda-node/node_modules/aws-lambda-ric/rapid-client.node" ]; then
  exit 0
fi
missing=()
for tool in cmake autoconf automake libtoolize make g++; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing build tools for aws-lambda-ric (${missing[*]} missing)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends cmake autoconf automake libtool make g++ python3
fi
(cd "$root/e2e/lambda-node" && npm ci --no-audit --no-fund --foreground-scripts)
