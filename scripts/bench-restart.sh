#!/usr/bin/env bash
# Restart and recovery time with ~1 GiB in the active segments of 16 shards:
# loads 1,000,000 × 1 KiB records, stops the server (SIGTERM, or SIGKILL with
# "kill"), and times a new server until /healthz answers.
# Usage: go build -o eddy ./cmd/eddy && scripts/bench-restart.sh term|kill
set -e
D=${DATA:-/tmp/eddy-restart}; A=127.0.0.1:4621
rm -rf $D
${EDDY:-./eddy} server --addr $A --data-dir $D --durability always --log-level warn & P=$!
until curl -sf http://$A/healthz >/dev/null; do sleep 0.05; done
${EDDY:-./eddy} bench --endpoint http://$A --mode put --shards 16 --record-size 1024 --records 1000000 --keep --quiet >/dev/null 2>&1
du -sh $D | cut -f1
if [ "$1" = kill ]; then kill -9 $P; else kill -TERM $P; fi
wait $P 2>/dev/null || true
t0=$(date +%s.%N)
${EDDY:-./eddy} server --addr $A --data-dir $D --durability always --log-level warn & P=$!
until curl -sf http://$A/healthz >/dev/null; do sleep 0.005; done
t1=$(date +%s.%N)
echo "$1: ready after $(echo "$t1 - $t0" | bc) s"
kill -TERM $P; wait $P 2>/dev/null || true
