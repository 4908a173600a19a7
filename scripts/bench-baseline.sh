#!/usr/bin/env bash
# The benchmark baseline: builds release binaries, then for each backend (SQLite,
# then PostgreSQL on a throwaway database) seeds the corpora, starts `beep serve`,
# runs every beep-bench scenario RUNS times and prints the median of each figure
# as a Markdown table for BENCHMARKS.md. Run it on a quiet machine.
#
#   scripts/bench-baseline.sh                      # the goals' sizes
#   HISTORY_MESSAGES=1000000 RUNS=1 scripts/bench-baseline.sh   # a quicker look
#
# Settings (environment):
#   BACKENDS          "sqlite postgres"     backends to measure
#   RUNS              3                     runs per scenario (the median is kept)
#   DURATION          8                     seconds per run
#   HISTORY_MESSAGES  10000000              corpus of the history scenario
#   HISTORY_GUILDS    10                    ... spread over this many guilds (1 channel each)
#   SEARCH_MESSAGES   1000000               corpus of the search scenario
#   SESSIONS          250000                idle sessions (capped by the open-file limit)
#   FANOUT_MEMBERS    1000                  receiving sessions of the fan-out scenario
#   FANOUT_RATE       500                   messages per second sent to them
#   SEND_CLIENTS      64                    concurrent senders
#   PG_ADMIN_URL      postgres://postgres@127.0.0.1:5432/postgres
#   CARGO_TARGET_DIR  target                where the release build goes
#   SKIP_BUILD        unset                 set to 1 to use existing binaries
#   BIN_DIR           $CARGO_TARGET_DIR/release   where beep and beep-bench are
#   OUT               bench-results         directory for logs and raw JSON lines
#
# Time on the 2-core development machine: build 2-20 min (warm/cold, thin LTO).
# Seeding feeds the full-text index in the same transaction and dominates: measured
# while other builds loaded the machine, 17k msgs/s on SQLite and 12k msgs/s on
# PostgreSQL, i.e. search corpus (1 M) ~1 min / ~1.5 min and history corpus (10 M)
# ~10 min / ~14 min (expect roughly half on a quiet machine). The scenarios take
# ~1 min per scenario for 3 runs of 8 s (fan-out and sessions set-up included): about
# 6 min per backend. Default sizes: ~35-45 min in all; the goals' sizes are the
# default because the goals are stated at them. For a ~15-minute run:
#   HISTORY_MESSAGES=2000000 scripts/bench-baseline.sh
# (and say so next to the history figure). A smoke of the whole script (~1 min):
#   RUNS=1 DURATION=2 HISTORY_MESSAGES=20000 SEARCH_MESSAGES=20000 SESSIONS=300 \
#   FANOUT_MEMBERS=20 FANOUT_RATE=20 SEND_CLIENTS=4 scripts/bench-baseline.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BACKENDS="${BACKENDS:-sqlite postgres}"
RUNS="${RUNS:-3}"
DURATION="${DURATION:-8}"
HISTORY_MESSAGES="${HISTORY_MESSAGES:-10000000}"
HISTORY_GUILDS="${HISTORY_GUILDS:-10}"
SEARCH_MESSAGES="${SEARCH_MESSAGES:-1000000}"
SESSIONS="${SESSIONS:-250000}"
FANOUT_MEMBERS="${FANOUT_MEMBERS:-1000}"
FANOUT_RATE="${FANOUT_RATE:-500}"
SEND_CLIENTS="${SEND_CLIENTS:-64}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
OUT="${OUT:-bench-results}"
BIN_DIR="${BIN_DIR:-$CARGO_TARGET_DIR/release}"
BEEP="$BIN_DIR/beep"
BENCH="$BIN_DIR/beep-bench"

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
WORK="$(mktemp -d)"
server_pid=""
pg_db=""

cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$pg_db" ]; then psql "$PG_ADMIN_URL" -qc "drop database if exists $pg_db with (force)" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

t0=$(date +%s)
phase_start=$t0
phase() {
  local now; now=$(date +%s)
  printf '[%4ds, +%3ds] %s\n' "$((now - t0))" "$((now - phase_start))" "$*" >&2
  phase_start=$now
}

if [ -z "${SKIP_BUILD:-}" ]; then
  phase "building release binaries into $CARGO_TARGET_DIR"
  cargo build --release -p beep -p beep-bench >&2
fi

# Both processes hold one socket per session: stay under the smaller limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit=$(ulimit -n)
if [ "$fd_limit" != "unlimited" ] && [ "$SESSIONS" -gt $((fd_limit - 2000)) ]; then
  echo "note: open-file limit is $fd_limit (hard); sessions capped at $((fd_limit - 2000)) instead of $SESSIONS" >&2
  SESSIONS=$((fd_limit - 2000))
fi

# Environment of `beep` for backend $1 with data dir $2 (PostgreSQL: a new database).
backend_env() {
  local backend=$1 dir=$2
  BEEP_ENV=(BEEP_DATA_DIR="$dir" BEEP_RATELIMIT_ENABLED=false BEEP_LOG_LEVEL=warn)
  if [ "$backend" = postgres ]; then
    if [ -n "$pg_db" ]; then psql "$PG_ADMIN_URL" -qc "drop database if exists $pg_db with (force)" >/dev/null; fi
    pg_db="beep_bench_$$_$RANDOM"
    psql "$PG_ADMIN_URL" -qc "create database $pg_db" >/dev/null
    BEEP_ENV+=(BEEP_DATABASE_URL="${PG_ADMIN_URL%/*}/$pg_db")
  fi
}

start_server() {
  local port=$((20000 + RANDOM % 20000))
  env "${BEEP_ENV[@]}" "$BEEP" serve --listen "127.0.0.1:$port" >"$OUT/server-$1.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 400); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.05
  done
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null
  TARGET="http://127.0.0.1:$port"
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
}

# run BACKEND LABEL ARGS...: RUNS runs, each appended to results.jsonl with its labels.
run() {
  local backend=$1 label=$2
  shift 2
  for i in $(seq 1 "$RUNS"); do
    local line
    if line=$("$BENCH" "$@" --target "$TARGET" --duration "$DURATION" --json 2>>"$OUT/bench.log" | tail -n 1); then
      printf '{"backend":"%s","label":"%s","run":%d,"figures":%s}\n' "$backend" "$label" "$i" "$line" >>"$RESULTS"
    else
      echo "  $label run $i failed (see $OUT/bench.log)" >&2
    fi
  done
  phase "$backend: $label x$RUNS"
}

for backend in $BACKENDS; do
  # 1. Search corpus; every scenario but history runs on this database.
  dir="$WORK/$backend-main"
  backend_env "$backend" "$dir"
  env "${BEEP_ENV[@]}" "$BEEP" admin seed --guilds 1 --members 100 --messages "$SEARCH_MESSAGES" \
    --prefix s --out "$dir/seed.json" 2>&1 | tail -n 1 >&2
  phase "$backend: seeded $SEARCH_MESSAGES messages (search corpus)"
  start_server "$backend-main"
  run "$backend" "send" send --concurrency "$SEND_CLIENTS"
  run "$backend" "send half rate" send --concurrency "$SEND_CLIENTS" --rate 25000
  run "$backend" "fanout" fanout --members "$FANOUT_MEMBERS" --rate "$FANOUT_RATE"
  # Sessions on a fresh server process: memory freed by the earlier scenarios
  # would otherwise be reused and hide what the sessions cost.
  stop_server
  start_server "$backend-sessions"
  run "$backend" "sessions" sessions --count "$SESSIONS" --server-pid "$server_pid" --concurrency 128
  stop_server
  start_server "$backend-main2"
  # One client: the latency of a query (the goal); four: under load.
  run "$backend" "search" search --seed "$dir/seed.json" --concurrency 1
  run "$backend" "search 4 clients" search --seed "$dir/seed.json" --concurrency 4
  run "$backend" "login" login --concurrency 8
  stop_server

  # 2. History corpus.
  dir="$WORK/$backend-history"
  backend_env "$backend" "$dir"
  env "${BEEP_ENV[@]}" "$BEEP" admin seed --guilds "$HISTORY_GUILDS" --members 100 \
    --messages "$HISTORY_MESSAGES" --prefix h --out "$dir/seed.json" 2>&1 | tail -n 1 >&2
  phase "$backend: seeded $HISTORY_MESSAGES messages (history corpus)"
  start_server "$backend-history"
  run "$backend" "history" history --seed "$dir/seed.json" --concurrency 32
  stop_server
  rm -rf "$dir"
done

mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain 2>/dev/null | grep -q . && echo " (+ uncommitted changes)" || true)
python3 - "$RESULTS" "$(date -u +%Y-%m-%d)" "$commit$dirty" "$(nproc)" "$mem" "$RUNS" "$DURATION" \
  "$HISTORY_MESSAGES" "$SEARCH_MESSAGES" "$(basename "$BIN_DIR")" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, statistics, sys
path, date, commit, nproc, mem, runs, duration, hist, search, build, load = sys.argv[1:]
rows = {}
order = []
for line in open(path):
    r = json.loads(line)
    key = (r["label"], r["backend"])
    if key not in rows:
        rows[key] = {}
    if r["label"] not in order:
        order.append(r["label"])
    for k, v in r["figures"].items():
        if isinstance(v, (int, float)):
            rows[key].setdefault(k, []).append(v)
keep = {
    "send": ["msgs_per_s", "p50_ms", "p99_ms", "errors"],
    "send half rate": ["msgs_per_s", "p50_ms", "p99_ms", "errors"],
    "fanout": ["sessions", "offered_per_s", "delivered_per_s", "p50_ms", "p99_ms", "max_ms", "errors"],
    "sessions": ["sessions", "connect_per_s", "rss_per_session_kib", "errors"],
    "history": ["req_per_s", "p50_ms", "p99_ms", "errors"],
    "search": ["req_per_s", "p50_ms", "p99_ms", "errors"],
    "search 4 clients": ["req_per_s", "p50_ms", "p99_ms", "errors"],
    "login": ["logins_per_s", "p99_ms", "errors"],
}
goals = {
    "send": "≥ 50,000 msgs/s SQLite, ≥ 20,000 PostgreSQL",
    "send half rate": "p99 ≤ 20 ms at 25,000 msgs/s",
    "fanout": "≥ 500,000 delivered/s, p99 ≤ 50 ms",
    "sessions": "≥ 250,000 sessions, ≤ 8 KiB each",
    "history": f"p99 ≤ 5 ms ({int(hist):,} messages)",
    "search": f"p99 ≤ 20 ms ({int(search):,} messages, one client)",
    "search 4 clients": "reported only",
    "login": "reported only",
}
def fmt(v):
    if v is None:
        return "–"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:g}"
def cell(label, backend):
    figs = rows.get((label, backend))
    if not figs:
        return "not run"
    parts = []
    for k in keep.get(label, sorted(figs)):
        if k in figs:
            parts.append(f"{k} {fmt(statistics.median(figs[k]))}")
    n = max(len(v) for v in figs.values())
    return ", ".join(parts) + ("" if n == int(runs) else f" ({n} of {runs} runs)")
print(f"Measured {date} at commit {commit}; {nproc} cores, {mem}; {build} build; "
      f"median of {runs} runs of {duration} s; server and load generator on the same machine; "
      f"load average at the end {load}.\n")
print("| scenario | SQLite | PostgreSQL | goal |")
print("|---|---|---|---|")
for label in order:
    print(f"| `{label}` | {cell(label, 'sqlite')} | {cell(label, 'postgres')} | {goals.get(label, '')} |")
PY
phase "done; raw figures in $RESULTS"
