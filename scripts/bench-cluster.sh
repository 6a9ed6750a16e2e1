#!/usr/bin/env bash
# Cluster mode against one node, in one run: a single node with
# --durability always (logstore) is the baseline; a 3-node embedded cluster
# (R3, separate processes and data directories on loopback) is measured
# against it with alternating rounds. Then put→get latency across two nodes.
# Usage: go build -o eddy ./cmd/eddy && scripts/bench-cluster.sh
set -e
E=${EDDY:-./eddy}; D=${DATA:-/tmp/eddy-bench-cluster}; DUR=${DURATION:-20s}
rm -rf $D; mkdir -p $D
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM $p 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
$E server --addr 127.0.0.1:4630 --data-dir $D/single --durability always --log-level warn & pids+=($!)
R=(127.0.0.1:4640 127.0.0.1:4641 127.0.0.1:4642)
for i in 0 1 2; do
  peers=$(printf '%s\n' "${R[@]}" | grep -v "${R[$i]}" | paste -sd,)
  $E server --addr 127.0.0.1:463$((i+1)) --data-dir $D/n$i --node-name n$i --cluster ${R[$i]} --peers $peers --log-level warn & pids+=($!)
done
for a in 4630 4631 4632 4633; do until curl -sf http://127.0.0.1:$a/healthz >/dev/null; do sleep 0.1; done; done
echo "== PutRecords: 3-node R3 cluster (endpoint) vs one node --durability always (baseline)"
$E bench --endpoint http://127.0.0.1:4631 --baseline --baseline-endpoint http://127.0.0.1:4630 --rounds 4 --duration $DUR --mode put --quiet
echo "== put→get latency across nodes (put through n1, read through n2)"
$E bench --endpoint http://127.0.0.1:4632 --read-endpoint http://127.0.0.1:4633 --mode latency --duration 10s --rate 1000 --quiet
