#!/usr/bin/env bash
# Installs staticcheck (run over the tree by scripts/test.sh) into
# $(go env GOPATH)/bin through the Go module proxy. Idempotent: nothing
# happens when this version is already installed. v0.8.2 (staticcheck
# 2026.2.2) supports Go 1.26.
set -euo pipefail
version=v0.8.2
bin="$(go env GOPATH)/bin/staticcheck"
if [ -x "$bin" ] && "$bin" -version 2>/dev/null | grep -qF "(${version#v})"; then
  exit 0
fi
echo "installing staticcheck $version"
go install "honnef.co/go/tools/cmd/staticcheck@$version"
