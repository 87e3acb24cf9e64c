#!/usr/bin/env bash
# bench/cpu-per-request.sh [PORT] [COUNT]: server CPU milliseconds per 1 KiB PUT and per GET of a standalone node
# built from this checkout, from /proc/<pid>/stat (utime + stime): a warm-up, then COUNT PUTs and GETs at 16
# connections, then COUNT GETs alone of the same objects; the PUTs' share is the difference. CPU time per request is
# steadier than requests/s on a busy shared machine. The node's store is a temporary directory, removed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PORT="${1:-26080}"
COUNT="${2:-8000}"
STORE="$(mktemp -d)"
scripts/spread-standalone -s "$STORE" --http "$PORT" -p $((PORT + 100)) -l 127.0.0.1 > "$STORE.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$STORE" "$STORE.log"' EXIT
for _ in $(seq 1 120); do curl -s -o /dev/null "http://127.0.0.1:$PORT/data/x" && break; sleep 1; done
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
scripts/spread-bench --port "$PORT" --count 2000 > /dev/null 2>&1   # the JVM's warm-up
a=$(cpu)
scripts/spread-bench --port "$PORT" --count "$COUNT" --run-id cpu > /dev/null 2>&1
b=$(cpu)
scripts/spread-bench --port "$PORT" --count "$COUNT" --run-id cpu --read-only > /dev/null 2>&1
c=$(cpu)
awk -v a="$a" -v b="$b" -v c="$c" -v n="$COUNT" -v hz="$(getconf CLK_TCK)" 'BEGIN {
  get = (c - b) / hz; both = (b - a) / hz
  printf "server CPU per request: PUT %.3f ms, GET %.3f ms (%d of each)\n", 1000 * (both - get) / n, 1000 * get / n, n }'
