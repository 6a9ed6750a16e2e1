#!/usr/bin/env bash
# Runs every fuzz target of the module for a short time: a smoke run on each
# CI run (long fuzzing is done by hand with go test -fuzz). Targets are
# discovered, not listed: every `func FuzzXxx(` in a *_test.go file joins
# automatically. Each package's test binary is built once with fuzzing
# instrumentation (go test -c -fuzz) and run once per target, from the
# package directory, like go test -run='^$' -fuzz='^Name$' does.
#
#   FUZZTIME     per-target fuzzing time (-fuzztime), default 2s
#   FUZZ_BUDGET  seconds for the whole run, default 480 (CI's share); targets
#                that would start after it are skipped, each with a SKIPPED
#                line and counted in the summary (a slow machine or a cold
#                build cache must not fail CI, nor make it run long)
#
# A failing input is written under the package's testdata/fuzz/<Target>/
# (as go test does) and the run fails with the target's output.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
fuzztime="${FUZZTIME:-2s}"
budget="${FUZZ_BUDGET:-480}"
cache="$(go env GOCACHE)/fuzz"
start=$SECONDS
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# "<package dir> <target>" for every fuzz target, in a stable order
mapfile -t targets < <(
  grep -rEo --include='*_test.go' --exclude-dir=testdata --exclude-dir=vendor --exclude-dir=node_modules \
    '^func Fuzz[A-Za-z0-9_]*\(' . |
    sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#' | sort -u
)
if [ "${#targets[@]}" -eq 0 ]; then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${fuzztime} each, budget ${budget}s"
failed=0
skipped=0
built=""
bin=""
pkg=""
for t in "${targets[@]}"; do
  dir="${t% *}"
  name="${t#* }"
  if (( SECONDS - start >= budget )); then
    echo "fuzz: SKIPPED $dir $name (budget of ${budget}s used up)"
    skipped=$((skipped + 1))
    continue
  fi
  log="$work/out.log"
  t0=$SECONDS
  if [ "$built" != "$dir" ]; then
    built="$dir"
    pkg="$(go list "$dir")"
    bin="$work/$(echo "$pkg" | tr '/.' '__').fuzz"
    if ! go test -c -fuzz="^${name}\$" -o "$bin" "$dir" >"$log" 2>&1; then
      echo "fuzz: $dir: building the fuzz binary FAILED:"
      tail -n 60 "$log"
      failed=$((failed + 1))
      bin=""
      continue
    fi
  fi
  if [ -z "$bin" ]; then
    echo "fuzz: $dir $name not run (its package did not build)"
    failed=$((failed + 1))
    continue
  fi
  run_target() {
    (cd "$root/$dir" && "$bin" -test.run='^$' -test.fuzz="^${name}\$" -test.fuzztime="$fuzztime" \
      -test.fuzzcachedir="$cache/$pkg" -test.timeout=5m) >"$log" 2>&1
  }
  ok=0
  if run_target; then
    ok=1
  elif ! grep -q "Failing input written to" "$log" && grep -q "context deadline exceeded" "$log"; then
    # the fuzzing engine can miss its own short deadline on a loaded
    # machine (no input failed, nothing written): run the target once more
    echo "fuzz: $dir $name: engine deadline missed with no failing input; running it again"
    if run_target; then ok=1; fi
  fi
  if [ "$ok" -eq 1 ]; then
    echo "fuzz: $dir $name passed ($((SECONDS - t0))s)"
  else
    echo "fuzz: $dir $name FAILED ($((SECONDS - t0))s):"
    tail -n 60 "$log"
    failed=$((failed + 1))
  fi
done
echo "fuzz: ${#targets[@]} targets in $((SECONDS - start))s; $failed failed, $skipped skipped for time"
[ "$failed" -eq 0 ]
