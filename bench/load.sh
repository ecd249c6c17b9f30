#!/usr/bin/env bash
# bench/load.sh — throughput, latency, CPU and memory of the AuthKit layer on
# one machine.
#
# What it measures, in four modes (MODES), against four servers each:
#   1. axum, no authentication at all        (the ceiling; same headers)
#      (in the hot modes also behind one `Extension` layer answering with
#      the AuthKit layer's `Cache-Control: no-store` and `Vary`: the shape
#      of any layer that hands the handler a value and marks the answer
#      personal, authentication aside)
#      (in the cold modes a further server beside it: the ceiling paying
#      the crypto floor on each request's own credential, HMAC, AES and
#      RS256 for a cookie, RS256 for a token, everything else done at
#      start: the ceiling + the floor under the very same load, so the
#      AuthKit layer's distance to it is measured, the kernel's time
#      included, not added up by hand)
#   2. axum + the AuthKit layer              (examples/bench_server.rs)
#      (in the cold modes also with its session and token caches off)
#   3. Node: @workos-inc/node on node:http   (bench/node/server.mjs)
# all verifying against the same embedded WorkOS emulator:
#   cookie-hot   GET /api/ping (AuthUser), one `wos-session` cookie on every
#                request: the caches' case (Node: loadSealedSession()
#                .authenticate(), which caches nothing).
#   cookie-cold  the same route, SESSIONS distinct sessions (each user signed
#                in once against the emulator) sent round-robin by wrk's Lua
#                (one cookie a request; every wrk thread its own share), so
#                each request carries a cookie not seen for SESSIONS requests:
#                what a deployment with many users and replicas mostly runs.
#   bearer-hot   GET /api/claims (AuthClaims, no user fetch) with one
#                `Authorization: Bearer <access token>` (Node: the SDK's
#                userManagement.isValidJwt(), jose's jwtVerify against its
#                createRemoteJWKSet).
#   bearer-cold  the same route, the SESSIONS sessions' access tokens
#                round-robin.
# Each server must answer a few sampled cookies / tokens with their own user
# (the ceiling: its constant user) before and after its load, and every
# request of the load 2xx. Per server: req/s, latency percentiles, CPU per
# request (the server process's utime+stime from /proc/<pid>/stat over the
# measured window, ÷ requests; and its utime alone, the server's own code
# without the kernel's network work, split from stime by the kernel's tick
# samples: an estimate), RSS at start, at the end and its high-water
# mark (/proc/<pid>/status VmRSS, VmHWM), and the ratios vs the ceiling and
# vs Node in the same mode (and in the cold modes, the layer's CPU per
# request minus the floor server's).
# Then the refresh storms: STORM_REQUESTS concurrent requests carrying one
# expired session, through one process (exactly one refresh call) and, when
# nginx is installed, through two replicas behind nginx (at most two).
#
# Usage:
#   bench/load.sh                 # every mode, 20 rounds of 3 s per server,
#                                 # 20 000 sessions (about 20 minutes, one
#                                 # of them minting the sessions)
#   QUICK=1 bench/load.sh         # every mode, 1 round of 3 s, 2 000
#                                 # sessions: a smoke test (about a minute and a half
#                                 # with the binary built)
#   MODES=cookie-cold SESSIONS=50000 bench/load.sh
#
# Settings (environment):
#   MODES="cookie-hot cookie-cold bearer-hot bearer-cold"   which, in order
#   SESSIONS=20000    distinct sessions of the cold modes (QUICK: 2000)
#   DURATION=3        seconds of measured load per server and round (1..600)
#   WARMUP=3          seconds of unmeasured load first (0..60), with the
#                     mode's own headers (the cold modes keep rotating)
#   ROUNDS=20         rounds of the servers, interleaved (1..60); the table
#                     shows each server's median round, and the ratios the
#                     median of the per-round ratios
#   KEEP=1            1: each server of a mode starts once (warmed up once)
#                     and stays up across the rounds, so a round is one
#                     slice of load per server, back to back: the machine's
#                     drift slower than a round falls on all the servers of
#                     the round alike and mostly cancels in its ratios
#                     (drift within a round does not). 0: every server
#                     restarts (and warms up) each round, as before
#   CONNECTIONS=64    wrk connections (1..1024)
#   THREADS=2         wrk threads (1..16)
#   STORM_REQUESTS=200
#   REPLICA_STORM=auto  1: also the storm through two replicas behind nginx
#                     (fails without nginx), 0: not, auto: when nginx exists
#   NGINX=            the nginx binary (default: nginx or /usr/sbin/nginx)
#   BASE_PORT=18480   emulator on BASE_PORT, the servers on the next six
#   PIN=auto          1: pin with taskset, 0: don't, auto: when taskset exists
#                     and there are at least 2 CPUs
#   SERVER_CPUS=0     the cores the server under test may use (taskset -c)
#   LOAD_CPUS=<rest>  the cores wrk and the emulator may use (default: all
#                     but SERVER_CPUS)
#   PERF=0            1: also record a `perf` profile of each server
#                     under load (first round) and print its hottest symbols
#   SKIP_BUILD=0      1: use the already built release binary
#   BENCH_SERVER_BIN= a bench_server binary built elsewhere (e.g. from another
#                     commit, to compare); implies SKIP_BUILD=1
#   RESULTS_DIR=bench/results   where latest.md and latest.json go
#   WAIT_IDLE=0       seconds to wait for the machine to be idle (other
#                     processes using < 10% of the CPUs) before measuring;
#                     the background load seen is printed and recorded
#   IDLE_POLL=auto    1: hold a PM QoS request of 0 µs (/dev/cpu_dma_latency)
#                     for the whole run, so an idle core polls instead of
#                     halting (fails when it cannot), 0: leave the CPU idle
#                     states as they are, auto: 1 when it can be opened (root).
#                     Recorded and printed with the results.
#
# Idle polling: wrk's core sits idle whenever the server is the slower side,
# and on a VM whose idle cores halt (this project's Firecracker guests:
# cpuidle haltpoll with guest_halt_poll_ns=0) an answer that finds that core
# halted has to wake it: an inter-processor interrupt, a VM exit, which
# the kernel charges to the server as system time in writev. The slower the
# server, the idler wrk and the dearer each of its requests, so the cold
# modes' figures would largely measure the load generator's wake-ups. A real
# server's clients are on other machines. Holding cpu_dma_latency at 0 (the
# effect of idle=poll, without a reboot; tuned's latency profiles ask for
# 1 µs, which still lets this guest's cores halt) keeps idle cores in the
# POLL state: a wake-up is a flag the polling core sees, no interrupt. Polling
# burns the idle cores' time, which /proc/stat counts as idle. BENCHMARKS.md
# has the same servers measured both ways.
#
# Pinning: with PIN, the server under test runs on SERVER_CPUS and wrk (and
# the idle emulator) on LOAD_CPUS, so the load generator does not steal the
# server's CPU. The axum server's tokio runtime then has one worker per
# SERVER_CPUS core (tokio reads the affinity mask), and Node is one event
# loop (its libuv pool, where WebCrypto runs, shares the same cores): the
# comparison is per core. Unpinned numbers on a 2-core machine mostly measure
# how the scheduler splits the cores between wrk and the server. CPU per
# request does not depend on pinning as much as req/s does; it is the figure
# to compare across machines of one CPU model.
#
# Needs: cargo, npm (for Node 22 and the SDK, pinned by bench/node's lock
# file), wrk (installed with apt-get when missing and running as root);
# nginx for the replica storm. Everything listens on 127.0.0.1; every run is
# bounded by DURATION and a timeout; everything started here is stopped on
# exit.
#
# Output: one table per mode on stdout, and bench/results/latest.md (with the
# raw JSON) and bench/results/latest.json (see RESULTS_DIR).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [[ "${QUICK:-0}" == 1 ]]; then
  DURATION=${DURATION:-3}
  WARMUP=${WARMUP:-1}
  ROUNDS=${ROUNDS:-1}
  SESSIONS=${SESSIONS:-2000}
fi
MODES=${MODES:-cookie-hot cookie-cold bearer-hot bearer-cold}
SESSIONS=${SESSIONS:-20000}
DURATION=${DURATION:-3}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-20}
KEEP=${KEEP:-1}
REPLICA_STORM=${REPLICA_STORM:-auto}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
STORM_REQUESTS=${STORM_REQUESTS:-200}
BASE_PORT=${BASE_PORT:-18480}
PIN=${PIN:-auto}
SERVER_CPUS=${SERVER_CPUS:-0}
PERF=${PERF:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
WAIT_IDLE=${WAIT_IDLE:-0}
IDLE_POLL=${IDLE_POLL:-auto}

die() { printf '\nbench/load.sh: FAILED: %s\n' "$*" >&2; exit 1; }
say() { printf '\n=== %s ===\n' "$*"; }

in_range() { # name value min max
  # Decimal only: a leading zero would make bash read it as octal.
  if ! [[ "$2" =~ ^(0|[1-9][0-9]*)$ ]] || (( $2 < $3 || $2 > $4 )); then
    die "$1=$2: expected an integer in $3..$4"
  fi
}
in_range DURATION "$DURATION" 1 600
in_range WARMUP "$WARMUP" 0 60
in_range ROUNDS "$ROUNDS" 1 60
in_range KEEP "$KEEP" 0 1
# The perf profile's length: within one round's load.
PERF_SECS=$(( DURATION > 1 ? DURATION - 1 : 1 ))
in_range CONNECTIONS "$CONNECTIONS" 1 1024
in_range THREADS "$THREADS" 1 16
in_range STORM_REQUESTS "$STORM_REQUESTS" 1 2000
in_range SESSIONS "$SESSIONS" 1 200000
NEED_SESSIONS=0
for mode in $MODES; do
  case "$mode" in
    cookie-hot) ;;
    cookie-cold | bearer-hot | bearer-cold) NEED_SESSIONS=1 ;;
    *) die "MODES: unknown mode $mode (cookie-hot, cookie-cold, bearer-hot, bearer-cold)" ;;
  esac
done
[[ -n "${MODES// /}" ]] || die "MODES is empty"
# The layer's default caches (session/cookie_cache.rs, token_cache.rs) hold
# 2 048 cookies (a cookie's token is kept with its session, not in the token
# cache) and 10 000 Bearer tokens: fewer sessions than that make the cold
# mode partly (QUICK: wholly) cache hits.
for mode in $MODES; do
  case "$mode" in
    cookie-cold) fits=2048 ;;
    bearer-cold) fits=10000 ;;
    *) continue ;;
  esac
  if (( SESSIONS <= fits )); then
    echo "note: SESSIONS=$SESSIONS fits the layer's default caches for $mode ($fits): it is not all cold; a smoke test only" >&2
  fi
done
in_range BASE_PORT "$BASE_PORT" 1024 65000
in_range WAIT_IDLE "$WAIT_IDLE" 0 3600
(( CONNECTIONS >= THREADS )) || die "CONNECTIONS must be at least THREADS"
[[ "$IDLE_POLL" == 0 || "$IDLE_POLL" == 1 || "$IDLE_POLL" == auto ]] || die "IDLE_POLL=$IDLE_POLL: expected 0, 1 or auto"

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

NGINX_BIN=""
if [[ "$REPLICA_STORM" != 0 ]]; then
  if [[ -n "${NGINX:-}" ]]; then
    NGINX_BIN=$NGINX
  else
    NGINX_BIN=$(command -v nginx || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; } || true)
  fi
  if [[ -z "$NGINX_BIN" || ! -x "$NGINX_BIN" ]]; then
    [[ "$REPLICA_STORM" == 1 ]] && die "REPLICA_STORM=1 needs nginx (apt-get install -y nginx, or NGINX=/path/to/nginx)"
    NGINX_BIN=""
    echo "nginx: not found; the storm through two replicas will be skipped"
  else
    echo "nginx: $NGINX_BIN"
  fi
fi
[[ "$REPLICA_STORM" == 0 || "$REPLICA_STORM" == 1 || "$REPLICA_STORM" == auto ]] \
  || die "REPLICA_STORM=$REPLICA_STORM: expected 0, 1 or auto"

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

for p in $(seq "$BASE_PORT" $((BASE_PORT + 6))); do
  port_free "$p" || die "127.0.0.1:$p is in use; pick another BASE_PORT"
done

# ------------------------------------------------------------------ idle states

CPUIDLE=/sys/devices/system/cpu/cpuidle
IDLE_DRIVER=$(cat "$CPUIDLE/current_driver" 2>/dev/null || echo none)
[[ -r /sys/module/haltpoll/parameters/guest_halt_poll_ns ]] \
  && IDLE_DRIVER="$IDLE_DRIVER, guest_halt_poll_ns $(cat /sys/module/haltpoll/parameters/guest_halt_poll_ns)"
# Whether this process may open the PM QoS file (root, and a device cgroup
# that allows it; access() alone says yes to root).
can_hold_latency() { [[ -c /dev/cpu_dma_latency ]] && (exec 9>/dev/cpu_dma_latency) 2>/dev/null; }
if [[ "$IDLE_POLL" != 0 ]] && ! can_hold_latency; then
  [[ "$IDLE_POLL" == 1 ]] && die "IDLE_POLL=1: cannot open /dev/cpu_dma_latency (needs root)"
  IDLE_POLL=0
  echo "note: /dev/cpu_dma_latency cannot be opened (it needs root): idle cores stay as configured (IDLE_POLL=0)" >&2
fi
if [[ "$IDLE_POLL" == auto ]]; then IDLE_POLL=1; fi
# The POLL state's entries so far, summed over the cores (none: no cpuidle).
poll_entries() {
  local f n=0
  for f in /sys/devices/system/cpu/cpu[0-9]*/cpuidle/state0; do
    [[ -r $f/name && $(cat "$f/name") == POLL ]] && n=$((n + $(cat "$f/usage")))
  done
  echo "$n"
}
if [[ "$IDLE_POLL" == 1 ]]; then
  # One holder process keeps the request open (no other child inherits it)
  # while this script is its parent, and gives it up within a second of the
  # script's end, however it ends (its stdio closed, so it never holds a
  # caller's pipe open).
  ( exec 9>/dev/cpu_dma_latency; printf '\x00\x00\x00\x00' >&9
    while read -r _ _ _ ppid _ <"/proc/$BASHPID/stat" && [[ $ppid == "$$" ]]; do sleep 1 9>&-; done
  ) </dev/null >/dev/null 2>&1 &
  PIDS+=($!)
  sleep 0.2
  kill -0 "${PIDS[-1]}" 2>/dev/null || die "IDLE_POLL=1: could not hold a request on /dev/cpu_dma_latency"
  IDLE_TEXT="idle cores poll (PM QoS: cpu_dma_latency 0 µs; cpuidle $IDLE_DRIVER)"
else
  IDLE_TEXT="idle cores as configured (cpuidle $IDLE_DRIVER)"
fi
POLL_ENTRIES_START=$(poll_entries)
echo "$IDLE_TEXT"

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
SESSIONS_FILE=$WORK/sessions.tsv
MINT_ARGS=()
# Minting signs each user in once (an RS256 signature each, in the
# emulator): allow 20 s plus 10 ms a session.
CONFIG_WAIT=200
if [[ "$NEED_SESSIONS" == 1 ]]; then
  MINT_ARGS=(--sessions "$SESSIONS" --sessions-out "$SESSIONS_FILE")
  CONFIG_WAIT=$((200 + SESSIONS / 10))
  echo "minting $SESSIONS sessions (one password sign-in each)"
fi
"${ON_LOAD[@]}" "$BIN" emulator --port "$BASE_PORT" --out "$CONFIG" "${MINT_ARGS[@]}" >"$WORK/emulator.log" 2>&1 &
PIDS+=($!)
EMULATOR_PID=$!
for _ in $(seq "$CONFIG_WAIT"); do
  [[ -s "$CONFIG" ]] && break
  kill -0 "$EMULATOR_PID" 2>/dev/null || { cat "$WORK/emulator.log" >&2; die "the emulator exited"; }
  sleep 0.1
done
[[ -s "$CONFIG" ]] || { cat "$WORK/emulator.log" >&2; die "the emulator wrote no config in $((CONFIG_WAIT / 10)) s"; }
cat "$WORK/emulator.log"
if [[ "$NEED_SESSIONS" == 1 ]]; then
  [[ $(wc -l <"$SESSIONS_FILE") == "$SESSIONS" ]] || die "the emulator minted $(wc -l <"$SESSIONS_FILE") sessions, not $SESSIONS"
  # One header value a line, for wrk's Lua.
  awk -F'\t' '{ print "wos-session=" $2 }' "$SESSIONS_FILE" >"$WORK/cookies.txt"
  awk -F'\t' '{ print "Bearer " $3 }' "$SESSIONS_FILE" >"$WORK/tokens.txt"
  cut -f1 "$SESSIONS_FILE" >"$WORK/users.txt"
  (( $(sort -u "$WORK/users.txt" | wc -l) == SESSIONS )) || die "the minted sessions are not of $SESSIONS distinct users"
fi
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
# The cold modes: each wrk thread sends its share of the header values
# (line k, k + threads, …) round-robin, one a request, requests formatted
# once at start.
#   wrk … --script rotate.lua URL -- HEADER FILE PATH THREADS
cat "$WORK/report.lua" - >"$WORK/rotate.lua" <<'LUA'
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
local requests, n, i = {}, 0, 0
function init(args)
  local header, file, path, threads = args[1], args[2], args[3], tonumber(args[4])
  local line_no = 0
  for line in io.lines(file) do
    if line_no % threads == id - 1 then
      n = n + 1
      requests[n] = wrk.format("GET", path, { [header] = line })
    end
    line_no = line_no + 1
  end
  if n == 0 then error("no header values for thread " .. id .. " in " .. file) end
end
function request()
  i = i % n + 1
  return requests[i]
end
LUA

# ------------------------------------------------------------------ runs

CLK_TCK=$(getconf CLK_TCK)
# A process's CPU jiffies, "total user": utime + stime, and utime alone
# (its own code, without the kernel's network work, which on a VM whose idle
# cores halt grows per request as a server's throughput falls: IDLE_POLL).
proc_cpu() { sed -E 's/^.*\) //' "/proc/$1/stat" | awk '{print $12 + $13, $12}'; }
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

# The mode now measured: MODE, its route (MODE_PATH), header (MODE_HEADER),
# and either one value (MODE_VALUE, hot) or a file of values (MODE_FILE,
# cold); CHECKS: "user<TAB>header value" lines sampled before and after.
run_wrk() { # port seconds
  if [[ -n "$MODE_FILE" ]]; then
    "${ON_LOAD[@]}" timeout $(($2 + 60)) wrk --threads "$THREADS" --connections "$CONNECTIONS" \
      --duration "${2}s" --timeout 5s --script "$WORK/rotate.lua" \
      "http://127.0.0.1:$1$MODE_PATH" -- "$MODE_HEADER" "$MODE_FILE" "$MODE_PATH" "$THREADS"
  else
    "${ON_LOAD[@]}" timeout $(($2 + 30)) wrk --threads "$THREADS" --connections "$CONNECTIONS" \
      --duration "${2}s" --timeout 5s --script "$WORK/report.lua" \
      --header "$MODE_HEADER: $MODE_VALUE" "http://127.0.0.1:$1$MODE_PATH"
  fi
}
# VmRSS and VmHWM of a process, in KiB.
proc_mem() { awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { print r + 0, h + 0 }' "/proc/$1/status"; }

RESULTS=$WORK/results.jsonl
: >"$RESULTS"

# The servers up (KEEP=1: across a mode's rounds), by name: pid and RSS at
# start (before the warm-up).
declare -A SERVER_PID=() SERVER_RSS_START=()

bench_one() { # name label port expect_own_user command...
  local name=$1 label=$2 port=$3 own=$4
  shift 4
  say "$MODE: $label (round $ROUND of $ROUNDS)"
  local pid=${SERVER_PID[$name]:-} fresh=0
  if [[ -z "$pid" ]]; then
    fresh=1
    "${ON_SERVER[@]}" "$@" >"$WORK/$name.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    local status=""
    for _ in $(seq 200); do
      kill -0 "$pid" 2>/dev/null || { cat "$WORK/$name.log" >&2; die "$label exited at start"; }
      status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port$MODE_PATH" || true)
      [[ "$status" != 000 && -n "$status" ]] && break
      sleep 0.1
    done
    cat "$WORK/$name.log"
    SERVER_PID[$name]=$pid
    read -r "SERVER_RSS_START[$name]" _ < <(proc_mem "$pid")
  else
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/$name.log" >&2; die "$label exited between rounds"; }
    echo "kept running since round 1 (pid $pid)"
  fi
  local rss_start=${SERVER_RSS_START[$name]}
  # Every sampled credential must be accepted: 200 with its own user (the
  # ceiling: its constant user), before and after.
  check() {
    local body code user value n=0
    while IFS=$'\t' read -r user value; do
      [[ "$own" == 1 ]] || user=$NONE_USER
      body=$(curl -s --max-time 5 -H "$MODE_HEADER: $value" -w '\n%{http_code}' "http://127.0.0.1:$port$MODE_PATH") || true
      code=${body##*$'\n'}
      body=${body%$'\n'*}
      [[ "$code" == 200 ]] || die "$label answered $code (not 200) to a sampled $MODE credential: $body"
      [[ "$body" == *"\"user\":\"$user\""* ]] || die "$label answered 200 but not for user $user: $body"
      n=$((n + 1))
    done <"$CHECKS"
    echo "$1: $n sampled credential(s), each 200 for its own user (last: $body)"
  }
  check "check before"
  if (( WARMUP > 0 && fresh == 1 )); then
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
    # Within the measured load: from 0.5 s in, for all but its last second.
    ( sleep 0.5; timeout 60 perf record -q -F 999 -p "$pid" -o "$WORK/$name.perf" -- sleep "$PERF_SECS" ) >/dev/null 2>&1 &
    perf_pid=$!
  fi
  local t0 t1 u0 u1 s0 s1 l0 l1 m0 m1 e0 e1 c0 c1
  times >"$WORK/times.0"
  m0=$(machine_ticks)
  read -r e0 _ < <(proc_cpu "$EMULATOR_PID")
  read -r t0 u0 < <(proc_cpu "$pid")
  if [[ "$PIN" == 1 ]]; then
    read -r s0 s1 < <(cores_ticks "$SERVER_CPUS")
    read -r l0 l1 < <(cores_ticks "$LOAD_CPUS")
  fi
  run_wrk "$port" "$DURATION" >"$WORK/$name.wrk" 2>&1 || { cat "$WORK/$name.wrk" >&2; die "wrk failed against $label"; }
  read -r t1 u1 < <(proc_cpu "$pid")
  read -r e1 _ < <(proc_cpu "$EMULATOR_PID")
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
  local rss_end rss_hwm
  read -r rss_end rss_hwm < <(proc_mem "$pid")
  echo "server CPU: $(( t1 - t0 )) ticks of 1/$CLK_TCK s ($(( u1 - u0 )) of them user); RSS start ${rss_start} KiB, end ${rss_end} KiB, high-water ${rss_hwm} KiB"
  if [[ -n "$perf_pid" ]]; then
    wait "$perf_pid" 2>/dev/null || true
    if [[ -s "$WORK/$name.perf" ]]; then
      echo "perf: hottest symbols of $label (self time, ${PERF_SECS} s under load)"
      perf report -q -i "$WORK/$name.perf" --no-children --sort dso,symbol --stdio \
        >"$WORK/$name.perf.txt" 2>/dev/null || true
      { grep -v '^$' "$WORK/$name.perf.txt" | head -n 25 | sed -E 's/[[:space:]-]+$//'; } || true
    fi
  fi
  if (( KEEP == 0 || ROUND == ROUNDS )); then
    stop "$pid"
    unset 'SERVER_PID[$name]'
  fi
  echo "{\"mode\":\"$MODE\",\"name\":\"$name\",\"label\":\"$label\",\"round\":$ROUND,\"server_cpu_pct\":$server_cpu,\"server_cpu_ticks\":$(( t1 - t0 )),\"server_user_ticks\":$(( u1 - u0 )),\"clk_tck\":$CLK_TCK,\"server_cores_busy_pct\":$server_core,\"load_cores_busy_pct\":$load_core,\"other_cpu_pct\":$other,\"rss_start_kib\":$rss_start,\"rss_end_kib\":$rss_end,\"rss_hwm_kib\":$rss_hwm,\"wrk\":$json}" >>"$RESULTS"
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
# The ceiling's constant user: an id as long as WorkOS's (and the
# emulator's), so its answers are the same size as the layer's.
NONE_USER=user_01NOAUTH0CEILING0000000000

# Samples of the minted sessions: the first, the last and three between.
# sample FILE: "user<TAB>value" lines for CHECKS.
sample() {
  local n=$SESSIONS k
  for k in 1 $(( n / 4 + 1 )) $(( n / 2 + 1 )) $(( 3 * n / 4 + 1 )) "$n"; do echo "$k"; done | sort -un |
    while read -r k; do
      printf '%s\t%s\n' "$(sed -n "${k}p" "$WORK/users.txt")" "$(sed -n "${k}p" "$1")"
    done
}
if [[ "$NEED_SESSIONS" == 1 ]]; then
  sample "$WORK/cookies.txt" >"$WORK/checks.cookie-cold"
  sample "$WORK/tokens.txt" >"$WORK/checks.bearer-cold"
  head -n1 "$WORK/checks.bearer-cold" >"$WORK/checks.bearer-hot"
fi
printf '%s\twos-session=%s\n' "$USER_ID" "$COOKIE" >"$WORK/checks.cookie-hot"

for MODE in $MODES; do
  # Nothing of the last mode's kept up into this one.
  for name in "${!SERVER_PID[@]}"; do stop "${SERVER_PID[$name]}"; done
  SERVER_PID=()
  MODE_FILE=""
  MODE_VALUE=""
  CHECKS=$WORK/checks.$MODE
  case "$MODE" in
    cookie-hot) MODE_PATH=/api/ping MODE_HEADER=Cookie MODE_VALUE="wos-session=$COOKIE" ;;
    cookie-cold) MODE_PATH=/api/ping MODE_HEADER=Cookie MODE_FILE=$WORK/cookies.txt ;;
    bearer-hot) MODE_PATH=/api/claims MODE_HEADER=Authorization MODE_VALUE=$(cut -f2 "$CHECKS") ;;
    bearer-cold) MODE_PATH=/api/claims MODE_HEADER=Authorization MODE_FILE=$WORK/tokens.txt ;;
  esac
  for round in $(seq 1 "$ROUNDS"); do
    ROUND=$round
    bench_one none "axum, no auth (ceiling)" $((BASE_PORT + 1)) 0 \
      "$BIN" app --mode none --port $((BASE_PORT + 1))
    if [[ "$MODE" == *-hot ]]; then
      bench_one layer "axum, no auth, Extension + Cache-Control/Vary" $((BASE_PORT + 4)) 0 \
        "$BIN" app --mode layer --port $((BASE_PORT + 4))
    fi
    if [[ "$MODE" == *-cold ]]; then
      bench_one floor "axum, no auth + the crypto floor per request" $((BASE_PORT + 6)) 1 \
        "$BIN" app --mode floor --port $((BASE_PORT + 6)) --config "$CONFIG" --sessions "$SESSIONS_FILE"
    fi
    bench_one authkit "axum + AuthKit layer" $((BASE_PORT + 2)) 1 \
      "$BIN" app --mode authkit --port $((BASE_PORT + 2)) --config "$CONFIG"
    if [[ "$MODE" == *-cold ]]; then
      bench_one nocache "axum + AuthKit layer, caches off" $((BASE_PORT + 5)) 1 \
        "$BIN" app --mode authkit-nocache --port $((BASE_PORT + 5)) --config "$CONFIG"
    fi
    bench_one node "Node @workos-inc/node" $((BASE_PORT + 3)) 1 \
      "$NODE" "$NODE_DIR/server.mjs" --port $((BASE_PORT + 3)) --config "$CONFIG"
  done
done

stop "$EMULATOR_PID"

# ------------------------------------------------------------------ storm

say "refresh storm: $STORM_REQUESTS concurrent requests, one expired session, one process"
STORM=$(timeout 120 "$BIN" storm --requests "$STORM_REQUESTS") || { echo "$STORM" >&2; die "the storm failed"; }
echo "$STORM"
REPLICA_STORM_JSON=""
REPLICA_STORM_SKIPPED=$([[ "$REPLICA_STORM" == 0 ]] && echo "REPLICA_STORM=0" || echo "no nginx")
if [[ -n "$NGINX_BIN" ]]; then
  say "refresh storm: $STORM_REQUESTS concurrent requests, one expired session, two replicas behind nginx"
  REPLICA_STORM_JSON=$(timeout 120 "$BIN" storm --requests "$STORM_REQUESTS" --replicas 2 --nginx "$NGINX_BIN") \
    || { echo "$REPLICA_STORM_JSON" >&2; die "the storm through two replicas failed"; }
  echo "$REPLICA_STORM_JSON"
fi

# ------------------------------------------------------------------ report

say "results"
export BENCH_DATE BENCH_NPROC BENCH_CPU BENCH_KERNEL BENCH_MEMORY BENCH_COMMIT BENCH_RUSTC \
  BENCH_WRK BENCH_NODE BENCH_WORKOS_NODE BENCH_IRON BENCH_DURATION BENCH_WARMUP \
  BENCH_CONNECTIONS BENCH_THREADS BENCH_ROUNDS BENCH_KEEP BENCH_PINNED BENCH_SERVER_CPUS BENCH_LOAD_CPUS BENCH_STORM \
  BENCH_BACKGROUND_BUSY BENCH_REPLICA_STORM BENCH_REPLICA_STORM_SKIPPED BENCH_SESSIONS BENCH_MODES BENCH_ELAPSED \
  BENCH_IDLE_POLL BENCH_IDLE BENCH_POLL_ENTRIES
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
BENCH_KEEP=$KEEP
BENCH_WARMUP=$WARMUP
BENCH_CONNECTIONS=$CONNECTIONS
BENCH_THREADS=$THREADS
BENCH_PINNED=$PIN
BENCH_SERVER_CPUS=$([[ "$PIN" == 1 ]] && echo "$SERVER_CPUS" || echo any)
BENCH_LOAD_CPUS=$([[ "$PIN" == 1 ]] && echo "$LOAD_CPUS" || echo any)
BENCH_STORM=$STORM
BENCH_REPLICA_STORM=$REPLICA_STORM_JSON
BENCH_REPLICA_STORM_SKIPPED=$REPLICA_STORM_SKIPPED
BENCH_SESSIONS=$([[ "$NEED_SESSIONS" == 1 ]] && echo "$SESSIONS" || echo 0)
BENCH_MODES=$MODES
BENCH_ELAPSED=$SECONDS
BENCH_BACKGROUND_BUSY=$BACKGROUND_BUSY
BENCH_IDLE_POLL=$IDLE_POLL
BENCH_IDLE=$IDLE_TEXT
BENCH_POLL_ENTRIES=$(( $(poll_entries) - POLL_ENTRIES_START ))
if [[ "$IDLE_POLL" == 1 && "$BENCH_POLL_ENTRIES" == 0 ]]; then
  echo "WARNING: IDLE_POLL=1, yet no core entered a POLL idle state (no cpuidle driver, or none with POLL): idle cores halted as configured" >&2
  BENCH_IDLE="$IDLE_TEXT, but no POLL state was entered"
fi
RESULTS_DIR=${RESULTS_DIR:-$ROOT/bench/results}
mkdir -p "$RESULTS_DIR"
"$NODE" "$ROOT/bench/report.mjs" "$RESULTS" "$RESULTS_DIR"
