#!/usr/bin/env bash
# bench/load.sh — throughput and latency of the AuthKit layer on one machine.
#
# What it measures: GET /api/ping with a valid `wos-session` cookie, against
#   1. axum, no authentication at all        (the ceiling)
#   2. axum + the AuthKit layer + AuthUser   (unseal + access-token check)
#   3. Node: @workos-inc/node's loadSealedSession().authenticate() on node:http
# all three verifying the same cookie against the same embedded WorkOS
# emulator (examples/bench_server.rs), then a refresh storm: STORM_REQUESTS
# concurrent requests carrying one expired session (bench_server storm),
# which must all succeed with a single refresh call to the emulator.
#
# Usage:
#   bench/load.sh                 # 3 rounds of 30 s per server, 64 connections,
#                                 # 2 threads (about 6 minutes)
#   QUICK=1 bench/load.sh         # a quick check: 1 round of 3 s, 1 s warm-up
#   DURATION=20 CONNECTIONS=128 bench/load.sh
#
# Settings (environment):
#   DURATION=30       seconds of measured load per server (1..600)
#   WARMUP=5          seconds of unmeasured load first (0..60)
#   ROUNDS=3          rounds of the three servers, interleaved (1..10); the
#                     table shows each server's median round
#   CONNECTIONS=64    wrk connections (1..1024)
#   THREADS=2         wrk threads (1..16)
#   STORM_REQUESTS=200
#   BASE_PORT=18480   emulator on BASE_PORT, the servers on the next three
#   PIN=auto          1: pin with taskset, 0: don't, auto: when taskset exists
#                     and there are at least 2 CPUs
#   SERVER_CPUS=0     the cores the server under test may use (taskset -c)
#   LOAD_CPUS=<rest>  the cores wrk and the emulator may use (default: all
#                     but SERVER_CPUS)
#   PERF=0            1: also record a 5 s `perf` profile of each server
#                     under load (first round) and print its hottest symbols
#   SKIP_BUILD=0      1: use the already built release binary
#   BENCH_SERVER_BIN= a bench_server binary built elsewhere (e.g. from another
#                     commit, to compare); implies SKIP_BUILD=1
#   RESULTS_DIR=bench/results   where latest.md and latest.json go
#   WAIT_IDLE=0       seconds to wait for the machine to be idle (other
#                     processes using < 10% of the CPUs) before measuring;
#                     the background load seen is printed and recorded
#
# Pinning: with PIN, the server under test runs on SERVER_CPUS and wrk (and
# the idle emulator) on LOAD_CPUS, so the load generator does not steal the
# server's CPU. The axum server's tokio runtime then has one worker per
# SERVER_CPUS core (tokio reads the affinity mask), and Node is one event
# loop (its libuv pool, where WebCrypto runs, shares the same cores): the
# comparison is per core. Unpinned numbers on a 2-core machine mostly measure
# how the scheduler splits the cores between wrk and the server.
#
# Needs: cargo, npm (for Node 22 and the SDK, pinned by bench/node's lock
# file), wrk (installed with apt-get when missing and running as root).
# Everything listens on 127.0.0.1; every run is bounded by DURATION and a
# timeout; everything started here is stopped on exit.
#
# Output: a table on stdout, and bench/results/latest.md (with the raw JSON)
# and bench/results/latest.json (see RESULTS_DIR).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [[ "${QUICK:-0}" == 1 ]]; then
  DURATION=${DURATION:-3}
  WARMUP=${WARMUP:-1}
  ROUNDS=${ROUNDS:-1}
fi
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-5}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
STORM_REQUESTS=${STORM_REQUESTS:-200}
BASE_PORT=${BASE_PORT:-18480}
PIN=${PIN:-auto}
SERVER_CPUS=${SERVER_CPUS:-0}
PERF=${PERF:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
WAIT_IDLE=${WAIT_IDLE:-0}

die() { printf '\nbench/load.sh: FAILED: %s\n' "$*" >&2; exit 1; }
say() { printf '\n=== %s ===\n' "$*"; }

in_range() { # name value min max
  if ! [[ "$2" =~ ^[0-9]+$ ]] || (( $2 < $3 || $2 > $4 )); then
    die "$1=$2: expected an integer in $3..$4"
  fi
}
in_range DURATION "$DURATION" 1 600
in_range WARMUP "$WARMUP" 0 60
in_range ROUNDS "$ROUNDS" 1 10
in_range CONNECTIONS "$CONNECTIONS" 1 1024
in_range THREADS "$THREADS" 1 16
in_range STORM_REQUESTS "$STORM_REQUESTS" 1 2000
in_range BASE_PORT "$BASE_PORT" 1024 65000
in_range WAIT_IDLE "$WAIT_IDLE" 0 3600
(( CONNECTIONS >= THREADS )) || die "CONNECTIONS must be at least THREADS"

NPROC=$(nproc)
if [[ "$PIN" == auto ]]; then
  if command -v taskset >/dev/null && (( NPROC >= 2 )); then PIN=1; else PIN=0; fi
fi
[[ "$PIN" == 0 || "$PIN" == 1 ]] || die "PIN=$PIN: expected 0, 1 or auto"
# Expands a taskset list ("0", "1,3", "2-5") into core numbers.
expand_cpus() {
  local part c out=()
  IFS=, read -ra parts <<<"$1"
  for part in "${parts[@]}"; do
    if [[ "$part" =~ ^([0-9]+)-([0-9]+)$ ]]; then
      for ((c = BASH_REMATCH[1]; c <= BASH_REMATCH[2]; c++)); do out+=("$c"); done
    elif [[ "$part" =~ ^[0-9]+$ ]]; then
      out+=("$part")
    else
      die "bad CPU list: $1"
    fi
  done
  echo "${out[@]}"
}
CPU_LIST='^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$'
[[ "$SERVER_CPUS" =~ $CPU_LIST ]] || die "SERVER_CPUS=$SERVER_CPUS: expected a CPU list such as 0 or 0,1"
[[ -z "${LOAD_CPUS:-}" || "$LOAD_CPUS" =~ $CPU_LIST ]] || die "LOAD_CPUS=$LOAD_CPUS: expected a CPU list such as 1 or 1-3"
if [[ "$PIN" == 1 ]]; then
  command -v taskset >/dev/null || die "PIN=1 needs taskset (util-linux)"
  if [[ -z "${LOAD_CPUS:-}" ]]; then
    server_set=" $(expand_cpus "$SERVER_CPUS") "
    rest=()
    for c in $(seq 0 $((NPROC - 1))); do [[ "$server_set" == *" $c "* ]] || rest+=("$c"); done
    (( ${#rest[@]} > 0 )) || die "no core left for the load generator; set LOAD_CPUS"
    LOAD_CPUS=$(IFS=,; echo "${rest[*]}")
  fi
  for c in $(expand_cpus "$SERVER_CPUS") $(expand_cpus "$LOAD_CPUS"); do
    (( c < NPROC )) || die "core $c does not exist (nproc $NPROC)"
  done
  # Command prefixes (taskset execs the command, so $! is the server's pid).
  ON_SERVER=(taskset -c "$SERVER_CPUS")
  ON_LOAD=(taskset -c "$LOAD_CPUS")
else
  LOAD_CPUS=""
  ON_SERVER=()
  ON_LOAD=()
fi

# ------------------------------------------------------------------ cleanup

WORK=$(mktemp -d "${TMPDIR:-/tmp}/authkit-bench.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    # A server that ignores SIGTERM gets SIGKILL after 3 s.
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stop() { # pid
  kill "$1" 2>/dev/null || true
  for _ in $(seq 30); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local kept=() pid
  for pid in "${PIDS[@]}"; do [[ "$pid" == "$1" ]] || kept+=("$pid"); done
  PIDS=("${kept[@]}")
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ------------------------------------------------------------------ tools

say "tools"
command -v cargo >/dev/null || die "cargo is required"
command -v npm >/dev/null || die "npm is required (it installs Node 22 and the SDK for bench/node)"
command -v curl >/dev/null || die "curl is required"
if ! command -v wrk >/dev/null; then
  [[ $(id -u) == 0 ]] || die "wrk is missing: apt-get install wrk (as root)"
  echo "installing wrk (Debian's package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  command -v wrk >/dev/null || die "could not install wrk"
fi
WRK_VERSION=$(wrk -v 2>&1 | head -n1 | awk '{print $1, $2}' || true)
echo "wrk: $WRK_VERSION"

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release/examples/bench_server
if [[ -n "${BENCH_SERVER_BIN:-}" ]]; then
  BIN=$BENCH_SERVER_BIN
  SKIP_BUILD=1
fi
if [[ "$SKIP_BUILD" != 1 ]]; then
  echo "cargo build --release --example bench_server"
  cargo build --release --example bench_server
fi
[[ -x "$BIN" ]] || die "$BIN is missing (build it, or unset SKIP_BUILD)"
# The code measured: the commit at build time (and whether the crate's
# sources differed from it).
if [[ -n "${BENCH_SERVER_BIN:-}" ]]; then
  BENCH_COMMIT="$BENCH_SERVER_BIN"
else
  BENCH_COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [[ -n "$(git -C "$ROOT" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null)" ]]; then
    BENCH_COMMIT="$BENCH_COMMIT + uncommitted changes to src/, Cargo.*"
  fi
  [[ "$SKIP_BUILD" == 1 ]] && BENCH_COMMIT="$BENCH_COMMIT (prebuilt binary: SKIP_BUILD=1)"
fi
echo "measuring: $BENCH_COMMIT"

NODE_DIR=$ROOT/bench/node
NODE=$NODE_DIR/node_modules/.bin/node
if [[ ! -x "$NODE" || ! -d "$NODE_DIR/node_modules/@workos-inc/node" \
      || "$NODE_DIR/package-lock.json" -nt "$NODE_DIR/node_modules/.package-lock.json" ]]; then
  echo "npm ci in bench/node"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
NODE_VERSION=$("$NODE" --version)
WORKOS_NODE_VERSION=$("$NODE" -p "require('$NODE_DIR/node_modules/@workos-inc/node/package.json').version")
IRON_VERSION=$("$NODE" -p "require('$NODE_DIR/node_modules/iron-session/package.json').version")
echo "node: $NODE_VERSION, @workos-inc/node $WORKOS_NODE_VERSION, iron-session $IRON_VERSION"

for p in $BASE_PORT $((BASE_PORT + 1)) $((BASE_PORT + 2)) $((BASE_PORT + 3)); do
  port_free "$p" || die "127.0.0.1:$p is in use; pick another BASE_PORT"
done

# ------------------------------------------------------------------ idle?

# How busy all CPUs are over one second, in % (nothing of ours runs yet).
machine_busy() {
  local a b
  a=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
  sleep 1
  b=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); d = y[2] - x[2]; printf "%.0f", (d > 0 ? 100 * (y[1] - x[1]) / d : 0) }'
}
say "background load"
BACKGROUND_BUSY=$(machine_busy)
waited=0
while (( BACKGROUND_BUSY >= 10 && waited < WAIT_IDLE )); do
  echo "the machine is ${BACKGROUND_BUSY}% busy before the benchmark; waiting (${waited}/${WAIT_IDLE} s)"
  sleep 9
  waited=$((waited + 10))
  BACKGROUND_BUSY=$(machine_busy)
done
if (( BACKGROUND_BUSY >= 10 )); then
  echo "WARNING: other processes keep ${BACKGROUND_BUSY}% of the CPUs busy: the numbers below are disturbed" >&2
  ps -eo pcpu,pid,args --sort=-pcpu | head -n 4 | cut -c1-120 >&2
else
  echo "CPUs ${BACKGROUND_BUSY}% busy before starting: quiet enough"
fi

# ------------------------------------------------------------------ emulator

say "emulator"
CONFIG=$WORK/config.json
"${ON_LOAD[@]}" "$BIN" emulator --port "$BASE_PORT" --out "$CONFIG" >"$WORK/emulator.log" 2>&1 &
PIDS+=($!)
EMULATOR_PID=$!
for _ in $(seq 200); do
  [[ -s "$CONFIG" ]] && break
  kill -0 "$EMULATOR_PID" 2>/dev/null || { cat "$WORK/emulator.log" >&2; die "the emulator exited"; }
  sleep 0.1
done
[[ -s "$CONFIG" ]] || { cat "$WORK/emulator.log" >&2; die "the emulator wrote no config in 20 s"; }
cat "$WORK/emulator.log"
COOKIE=$("$NODE" -p "JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')).cookie" "$CONFIG")
cat >"$WORK/report.lua" <<'LUA'
-- Prints wrk's summary as one JSON line (latencies in microseconds).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,' ..
    '"latency_mean_us":%.1f,"latency_stdev_us":%.1f,"latency_max_us":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
LUA

# ------------------------------------------------------------------ runs

CLK_TCK=$(getconf CLK_TCK)
proc_ticks() { sed -E 's/^.*\) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# "busy total" jiffies summed over a list of cores.
cores_ticks() {
  local want
  want=" $(expand_cpus "$1") "
  awk -v want="$want" '$1 ~ /^cpu[0-9]+$/ {
      n = substr($1, 4)
      if (index(want, " " n " ")) { busy += $2 + $3 + $4 + $7 + $8 + $9; total += $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }
    } END { print busy + 0, total + 0 }' /proc/stat
}
# Busy jiffies of the whole machine.
machine_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
# CPU seconds (user + system) of this shell's reaped children (wrk, here),
# from the output of `times`, which must run in this shell itself (not in a
# pipeline or $(...), which would be a subshell).
children_secs() {
  awk 'function s(t, a) { split(t, a, "m"); sub("s", "", a[2]); return a[1] * 60 + a[2] }
       NR == 2 { printf "%.3f", s($1) + s($2) }' "$1"
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", 100 * a / b; else print "null" }'; }

run_wrk() { # port seconds
  "${ON_LOAD[@]}" timeout $(($2 + 30)) wrk --threads "$THREADS" --connections "$CONNECTIONS" \
    --duration "${2}s" --timeout 5s --script "$WORK/report.lua" \
    --header "Cookie: wos-session=$COOKIE" "http://127.0.0.1:$1/api/ping"
}

RESULTS=$WORK/results.jsonl
: >"$RESULTS"

bench_one() { # name label port expected_user command...
  local name=$1 label=$2 port=$3 expect=$4
  shift 4
  say "$label (round $ROUND of $ROUNDS)"
  "${ON_SERVER[@]}" "$@" >"$WORK/$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  local status=""
  for _ in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/$name.log" >&2; die "$label exited at start"; }
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/api/ping" || true)
    [[ "$status" != 000 && -n "$status" ]] && break
    sleep 0.1
  done
  cat "$WORK/$name.log"
  # The cookie must be accepted: 200 with the expected user, before and after.
  check() {
    local body code
    body=$(curl -s --max-time 5 -H "Cookie: wos-session=$COOKIE" -w '\n%{http_code}' "http://127.0.0.1:$port/api/ping") || true
    code=${body##*$'\n'}
    body=${body%$'\n'*}
    [[ "$code" == 200 ]] || die "$label answered $code (not 200) with the bench cookie: $body"
    [[ "$body" == *"\"user\":\"$expect\""* ]] || die "$label answered 200 but not for user $expect: $body"
    echo "$1: 200 $body"
  }
  check "check before"
  if (( WARMUP > 0 )); then
    echo "warm-up: ${WARMUP}s"
    run_wrk "$port" "$WARMUP" >"$WORK/$name.warmup" 2>&1 || { cat "$WORK/$name.warmup" >&2; die "wrk failed warming up $label"; }
  fi
  if [[ "$PIN" == 1 ]]; then
    echo "load: ${DURATION}s, $CONNECTIONS connections, $THREADS threads (server on cores $SERVER_CPUS, wrk on cores $LOAD_CPUS)"
  else
    echo "load: ${DURATION}s, $CONNECTIONS connections, $THREADS threads (not pinned)"
  fi
  local perf_pid=""
  if [[ "$PERF" == 1 && "$ROUND" == 1 ]] && command -v perf >/dev/null; then
    ( sleep 2; timeout 20 perf record -q -F 999 -p "$pid" -o "$WORK/$name.perf" -- sleep 5 ) >/dev/null 2>&1 &
    perf_pid=$!
  fi
  local t0 t1 s0 s1 l0 l1 m0 m1 e0 e1 c0 c1
  times >"$WORK/times.0"
  m0=$(machine_ticks)
  e0=$(proc_ticks "$EMULATOR_PID")
  t0=$(proc_ticks "$pid")
  if [[ "$PIN" == 1 ]]; then
    read -r s0 s1 < <(cores_ticks "$SERVER_CPUS")
    read -r l0 l1 < <(cores_ticks "$LOAD_CPUS")
  fi
  run_wrk "$port" "$DURATION" >"$WORK/$name.wrk" 2>&1 || { cat "$WORK/$name.wrk" >&2; die "wrk failed against $label"; }
  t1=$(proc_ticks "$pid")
  e1=$(proc_ticks "$EMULATOR_PID")
  m1=$(machine_ticks)
  times >"$WORK/times.1"
  c0=$(children_secs "$WORK/times.0")
  c1=$(children_secs "$WORK/times.1")
  # CPU used by anything but the server, wrk and the emulator (other
  # processes, and network work the kernel did not charge to them), in % of
  # one core: high values mean the run was disturbed.
  local other
  other=$(awk -v m=$((m1 - m0)) -v t=$((t1 - t0)) -v e=$((e1 - e0)) -v c="$c0 $c1" -v hz="$CLK_TCK" -v d="$DURATION" \
    'BEGIN { split(c, w, " "); printf "%.1f", 100 * ((m - t - e) / hz - (w[2] - w[1])) / d }')
  local server_cpu server_core="null" load_core="null" sb st lb lt
  server_cpu=$(pct "$(( t1 - t0 ))" "$(( CLK_TCK * DURATION ))")
  if [[ "$PIN" == 1 ]]; then
    read -r sb st < <(cores_ticks "$SERVER_CPUS")
    server_core=$(pct "$(( sb - s0 ))" "$(( st - s1 ))")
    read -r lb lt < <(cores_ticks "$LOAD_CPUS")
    load_core=$(pct "$(( lb - l0 ))" "$(( lt - l1 ))")
  fi
  grep -v '^WRKJSON' "$WORK/$name.wrk"
  if awk -v o="$other" 'BEGIN { exit !(o > 15) }'; then
    echo "WARNING: ${other}% of a core went to other processes during this run: it was disturbed" >&2
  fi
  local json
  json=$(grep '^WRKJSON ' "$WORK/$name.wrk" | sed 's/^WRKJSON //') || die "wrk printed no summary for $label"
  check "check after"
  if [[ -n "$perf_pid" ]]; then
    wait "$perf_pid" 2>/dev/null || true
    if [[ -s "$WORK/$name.perf" ]]; then
      echo "perf: hottest symbols of $label (self time, 5 s under load)"
      perf report -q -i "$WORK/$name.perf" --no-children --sort dso,symbol --stdio \
        >"$WORK/$name.perf.txt" 2>/dev/null || true
      { grep -v '^$' "$WORK/$name.perf.txt" | head -n 25 | sed -E 's/[[:space:]-]+$//'; } || true
    fi
  fi
  stop "$pid"
  echo "{\"name\":\"$name\",\"label\":\"$label\",\"round\":$ROUND,\"server_cpu_pct\":$server_cpu,\"server_cores_busy_pct\":$server_core,\"load_cores_busy_pct\":$load_core,\"other_cpu_pct\":$other,\"wrk\":$json}" >>"$RESULTS"
  # Every request answered, and answered 2xx: a 401 is a status error.
  # shellcheck disable=SC2016 # JavaScript, not shell
  "$NODE" -e '
    const r = JSON.parse(process.argv[1]);
    const socket = r.connect_errors + r.read_errors + r.write_errors + r.timeouts;
    if (r.requests === 0) { console.error("no requests completed"); process.exit(1); }
    if (r.status_errors > 0) { console.error(`${r.status_errors} of ${r.requests} responses were not 2xx/3xx (401s?)`); process.exit(1); }
    if (socket > r.requests / 1000) { console.error(`${socket} socket errors / timeouts of ${r.requests} requests`); process.exit(1); }
  ' "$json" || die "$label: the load run was not all 200s (see above)"
}

# The demo user's id, read from the bench cookie by iron-session (so Node
# unseals it too).
USER_ID=$(cd "$NODE_DIR" && "$NODE" --input-type=module -e "
  import { readFileSync } from 'node:fs';
  import { unsealData } from 'iron-session';
  const c = JSON.parse(readFileSync(process.argv[1], 'utf8'));
  const s = await unsealData(c.cookie, { password: c.cookie_password });
  console.log(s.user.id);
" "$CONFIG") || die "could not read the user id from the bench cookie"
[[ "$USER_ID" == user_* ]] || die "unexpected user id in the bench cookie: $USER_ID"

for round in $(seq 1 "$ROUNDS"); do
  ROUND=$round
  bench_one none "axum, no auth (ceiling)" $((BASE_PORT + 1)) user_bench_none \
    "$BIN" app --mode none --port $((BASE_PORT + 1))
  bench_one authkit "axum + AuthKit layer" $((BASE_PORT + 2)) "$USER_ID" \
    "$BIN" app --mode authkit --port $((BASE_PORT + 2)) --config "$CONFIG"
  bench_one node "Node @workos-inc/node" $((BASE_PORT + 3)) "$USER_ID" \
    "$NODE" "$NODE_DIR/server.mjs" --port $((BASE_PORT + 3)) --config "$CONFIG"
done

stop "$EMULATOR_PID"

# ------------------------------------------------------------------ storm

say "refresh storm: $STORM_REQUESTS concurrent requests, one expired session"
STORM=$(timeout 120 "$BIN" storm --requests "$STORM_REQUESTS") || { echo "$STORM" >&2; die "the storm failed"; }
echo "$STORM"

# ------------------------------------------------------------------ report

say "results"
export BENCH_DATE BENCH_NPROC BENCH_CPU BENCH_KERNEL BENCH_MEMORY BENCH_COMMIT BENCH_RUSTC \
  BENCH_WRK BENCH_NODE BENCH_WORKOS_NODE BENCH_IRON BENCH_DURATION BENCH_WARMUP \
  BENCH_CONNECTIONS BENCH_THREADS BENCH_ROUNDS BENCH_PINNED BENCH_SERVER_CPUS BENCH_LOAD_CPUS BENCH_STORM \
  BENCH_BACKGROUND_BUSY
BENCH_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
BENCH_NPROC=$NPROC
BENCH_CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
BENCH_KERNEL=$(uname -r)
BENCH_MEMORY=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
BENCH_RUSTC=$(rustc --version)
BENCH_WRK=$WRK_VERSION
BENCH_NODE=$NODE_VERSION
BENCH_WORKOS_NODE=$WORKOS_NODE_VERSION
BENCH_IRON=$IRON_VERSION
BENCH_DURATION=$DURATION
BENCH_ROUNDS=$ROUNDS
BENCH_WARMUP=$WARMUP
BENCH_CONNECTIONS=$CONNECTIONS
BENCH_THREADS=$THREADS
BENCH_PINNED=$PIN
BENCH_SERVER_CPUS=$([[ "$PIN" == 1 ]] && echo "$SERVER_CPUS" || echo any)
BENCH_LOAD_CPUS=$([[ "$PIN" == 1 ]] && echo "$LOAD_CPUS" || echo any)
BENCH_STORM=$STORM
BENCH_BACKGROUND_BUSY=$BACKGROUND_BUSY
RESULTS_DIR=${RESULTS_DIR:-$ROOT/bench/results}
mkdir -p "$RESULTS_DIR"
"$NODE" "$ROOT/bench/report.mjs" "$RESULTS" "$RESULTS_DIR"
