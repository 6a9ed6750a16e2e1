#!/usr/bin/env bash
# Runs every Eddy test. First installs and prepares what the tests need
# (each scripts/setup.d/*.sh is idempotent and quick on a second run), so it
# works the same on a fresh machine and on a developer's.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(go env GOPATH)/bin:$PATH"
for f in scripts/setup.d/*.sh; do
  [ -e "$f" ] || continue
  echo "== setup: $f"
  bash "$f"
done
echo "== go mod tidy -diff"
go mod tidy -diff
echo "== go vet"
go vet ./...
echo "== go vet (GOOS=darwin: Linux-only code and tests carry build tags)"
GOOS=darwin go vet ./...
echo "== staticcheck"
staticcheck ./...
echo "== fuzz (a short run of every fuzz target)"
./scripts/fuzz.sh
echo "== go test (race, short)"
go test -race -short -count=1 -timeout 30m ./...
echo "== go test (full)"
go test -count=1 -timeout 45m ./...
echo "== kinesis service tests on natsstore (embedded JetStream)"
EDDY_TEST_BACKEND=nats go test -count=1 -timeout 10m ./internal/kinesis/
