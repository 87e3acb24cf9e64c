#!/usr/bin/env bash
# bench/wrk-ab.sh A_DIR B_DIR [SECONDS] [ROUNDS]: two builds of SpreadOSD side by side in one run, with wrk (a client
# that is not the bottleneck): a standalone node from each checkout (its target/spreadosd.jar must be built), then
# ROUNDS rounds of GET 1 KiB and PUT 1 KiB at 16 connections (2 wrk threads, SECONDS each), A and B alternating.
# Prints requests/s, p99 and the server's CPU time per request (utime + stime from /proc/<pid>/stat).
set -euo pipefail
A="$(cd "$1" && pwd)"; B="$(cd "$2" && pwd)"; SECS="${3:-10}"; ROUNDS="${4:-2}"
command -v wrk > /dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
WORK="$(mktemp -d)"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT
start() { # dir port
  "$1/scripts/spread-standalone" -s "$WORK/store-$2" --http "$2" -p $(($2 + 10)) -l 127.0.0.1 > "$WORK/$2.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 120); do curl -s -o /dev/null "http://127.0.0.1:$2/data/x" && return; sleep 1; done
  echo "node on $2 did not start" >&2; exit 1
}
start "$A" 27080; PID_A=${PIDS[0]}
start "$B" 27180; PID_B=${PIDS[1]}
head -c 1024 /dev/urandom > "$WORK/obj"
for port in 27080 27180; do curl -s -o /dev/null -X PUT --data-binary @"$WORK/obj" "http://127.0.0.1:$port/data/bench-get"; done
cat > "$WORK/put.lua" <<'LUA'
local body = string.rep("x", 1024)
local n = 0
request = function()
  n = n + 1
  return wrk.format("PUT", "/data/bench-put-" .. n, {["Content-Type"] = "application/octet-stream"}, body)
end
LUA
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() { # label pid port op
  local before after out reqs p99 script=()
  [ "$4" = PUT ] && script=(-s "$WORK/put.lua")
  before=$(cpu "$2")
  out=$(wrk -t2 -c16 -d"${SECS}s" --latency "${script[@]}" "http://127.0.0.1:$3/data/bench-get")
  after=$(cpu "$2")
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  awk -v l="$1" -v op="$4" -v r="$reqs" -v s="$SECS" -v p="$p99" -v c=$((after - before)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%-2s %-4s %8.0f req/s  p99 %-8s server CPU %.3f ms/request\n", l, op, r / s, p, 1000 * c / hz / r }'
}
curl -s -o /dev/null "http://127.0.0.1:27080/data/bench-get"
for _ in 1 2 3; do wrk -t2 -c16 -d3s "http://127.0.0.1:27080/data/bench-get" > /dev/null; wrk -t2 -c16 -d3s "http://127.0.0.1:27180/data/bench-get" > /dev/null; done
echo "A = $A, B = $B; ${SECS} s per phase, 16 connections"
for r in $(seq 1 "$ROUNDS"); do
  run A "$PID_A" 27080 GET; run B "$PID_B" 27180 GET
  run A "$PID_A" 27080 PUT; run B "$PID_B" 27180 PUT
done
