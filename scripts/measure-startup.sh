#!/usr/bin/env bash
# Measures start-to-ready (exec until /healthz answers 200) and idle RSS of a
# release build, on a fresh data directory (first start: creates and migrates the
# database) and again on the same directory (later start). Usage:
#   scripts/measure-startup.sh [path/to/beep]
set -euo pipefail
BIN="${1:-target/release/beep}"
DATA="$(mktemp -d)"
PORT=$((20000 + RANDOM % 20000))
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT

run_once() {
  local label=$1
  local start end
  start=$(date +%s%N)
  "$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" >/dev/null 2>&1 &
  PID=$!
  until curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do sleep 0.001; done
  end=$(date +%s%N)
  sleep 2
  local rss
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
  printf '%-12s start-to-ready %4d ms   idle RSS %6.1f MB\n' "$label" $(((end - start) / 1000000)) "$(echo "$rss/1024" | bc -l)"
  kill -TERM $PID
  wait $PID || true
}

run_once "first start"
run_once "later start"
