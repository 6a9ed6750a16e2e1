#!/usr/bin/env bash
# Installs versitygw, the S3-compatible server the Firehose delivery tests
# start on loopback (posix backend in a temp dir). Idempotent: does nothing
# when the binary is already there.
set -euo pipefail
bin="$(go env GOPATH)/bin/versitygw"
if [ -x "$bin" ]; then
  exit 0
fi
echo "installing versitygw v1.8.0 into $(go env GOPATH)/bin"
go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
