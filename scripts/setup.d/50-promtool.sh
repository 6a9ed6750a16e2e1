#!/usr/bin/env bash
# Installs promtool, which the /metrics exposition test
# (internal/app TestMetricsHostileTargets) runs as `promtool check metrics`.
# It comes from Debian's `prometheus` package. Only the promtool binary is
# taken (apt-get download + dpkg-deb -x into /usr/local/bin): installing the
# whole package would pull in the web UI's JavaScript packages and start a
# Prometheus server from its init script. Idempotent: does nothing when
# promtool is already on PATH.
set -euo pipefail
if command -v promtool >/dev/null; then
  exit 0
fi
echo "installing promtool (from Debian's prometheus package) into /usr/local/bin"
export DEBIAN_FRONTEND=noninteractive
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$tmp" && apt-get download prometheus); then
  apt-get update
  (cd "$tmp" && apt-get download prometheus)
fi
dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root"
install -m 0755 "$tmp/root/usr/bin/promtool" /usr/local/bin/promtool
promtool --version
