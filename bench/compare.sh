#!/usr/bin/env bash
# bench/compare.sh [WORKDIR]: the same spread-bench workload, one target at a time on this machine, against
#   (a) a standalone SpreadOSD node, (b) the one-host tutorial cluster (CS, 4 DSs in two replication-sets of
#   two, GW; through the GW's HTTP port) and (c) nginx serving PUT/GET from the same disk (WebDAV module);
#   plus the disk's own sequential write+fsync bandwidth (dd). Prints a Markdown table (also WORKDIR/results.md);
#   the raw --json outputs stay in WORKDIR. Exit status 1 when any benchmark reported an error.
#
# Environment:
#   QUICK=1             a tiny smoke run: small counts, no 256 MiB objects, a small dd
#   SMALL_COUNT=N       objects of 1 KiB per run (PUT N, then N random GETs)     default 30000 (QUICK 200)
#   LARGE_COUNT=N       objects of 1 MiB per run                                  default 3000  (QUICK 50)
#   PHASE_SECONDS=S     each PUT or GET phase of those runs ends after S seconds at the latest (spread-bench
#                       --duration), so that slow targets do not take hours       default 20    (QUICK 10)
#   HUGE_COUNT=N        objects of 256 MiB per run (concurrency 1); 0 skips them  default 2    (QUICK 0)
#   WARMUP_COUNT=N      1 KiB objects PUT+GET against each SpreadOSD target first, not reported
#                       (the server's JVM warm-up)                               default 1000 (QUICK 100)
#   DD_MB=N             size of the dd reference write in MiB                     default 1024 (QUICK 64)
#   PORT_BASE=P         ports of this script's nodes: standalone P+900 (HTTP P+80), nginx P+81, and, when the
#                       cluster cannot use spread-cluster's fixed ports, CS P+700, GW P+800 (HTTP P+90), DSs
#                       P+910..P+913; each SpreadOSD node also takes its port + 1000, + 2000 and + 3000
#                       (so P+3913 is the highest; keep it under the kernel's ephemeral range, 32768 on
#                       Linux, or an outgoing connection may hold a port a node needs)  default 24000
#   CLUSTER_MODE=auto|script|own   script: scripts/spread-cluster (fixed ports 18700.., GW HTTP 18090);
#                       own: the same topology on PORT_BASE ports; auto: script when all its ports are free
#   SERVER_JAVA_OPTS    JAVA_OPTS of the SpreadOSD nodes (default none); BENCH_JAVA_OPTS of spread-bench
#   TARGETS="standalone cluster nginx"   which targets to run (nginx is the reference of "vs nginx")
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${1:-./bench-work}"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"

QUICK="${QUICK:-0}"
if [ "$QUICK" = 1 ]; then
  SMALL_COUNT="${SMALL_COUNT:-200}"; LARGE_COUNT="${LARGE_COUNT:-50}"; HUGE_COUNT="${HUGE_COUNT:-0}"
  WARMUP_COUNT="${WARMUP_COUNT:-100}"; DD_MB="${DD_MB:-64}"; PHASE_SECONDS="${PHASE_SECONDS:-10}"
else
  SMALL_COUNT="${SMALL_COUNT:-30000}"; LARGE_COUNT="${LARGE_COUNT:-3000}"; HUGE_COUNT="${HUGE_COUNT:-2}"
  WARMUP_COUNT="${WARMUP_COUNT:-1000}"; DD_MB="${DD_MB:-1024}"; PHASE_SECONDS="${PHASE_SECONDS:-20}"
fi
PORT_BASE="${PORT_BASE:-24000}"
CLUSTER_MODE="${CLUSTER_MODE:-auto}"
TARGETS="${TARGETS:-standalone cluster nginx}"

SA_PORT=$((PORT_BASE + 900)); SA_HTTP=$((PORT_BASE + 80))
NGINX_PORT=$((PORT_BASE + 81))
OWN_CS=$((PORT_BASE + 700)); OWN_GW=$((PORT_BASE + 800)); OWN_GW_HTTP=$((PORT_BASE + 90)); OWN_DS=$((PORT_BASE + 910))

log() { echo "== $(date +%H:%M:%S) $*" >&2; }
die() { echo "compare.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- what this script started, stopped on exit
STARTED_PIDS=()          # pids of processes this script started (SpreadOSD nodes, nginx)
SCRIPT_CLUSTER_DIR=""    # set while scripts/spread-cluster runs a cluster for us

stop_pid() {  # pid: TERM, wait up to 60 s, then KILL; only ever a pid this script started
  local pid="$1"
  kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  echo "pid $pid did not stop within 60 s; killing it" >&2
  kill -9 "$pid" 2>/dev/null || true
}

stop_started() {  # stops, newest first, what this script started
  local i
  for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${STARTED_PIDS[$i]}"; done
  STARTED_PIDS=()
  if [ -n "$SCRIPT_CLUSTER_DIR" ]; then
    "$HERE/scripts/spread-cluster" stop "$SCRIPT_CLUSTER_DIR" >&2 || true
    SCRIPT_CLUSTER_DIR=""
  fi
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_started
  rm -f "$WORK/ddtest"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- helpers
port_free() { ! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }

require_free() {  # ports...: a SpreadOSD node also takes port + 1000, + 2000, + 3000
  local p
  for p in "$@"; do port_free "$p" || die "port $p is in use (ss -ltn); choose another PORT_BASE"; done
}

node_ports() {  # rpc ports... -> each with its derived ports
  local p
  for p in "$@"; do echo "$p $((p + 1000)) $((p + 2000)) $((p + 3000))"; done
}

await_ready() {  # pid, logfile: polls the log for the readiness line
  local pid="$1" logf="$2"
  for _ in $(seq 1 900); do   # 180 s
    grep -q "SpreadOSD node ready" "$logf" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "process $pid exited before it was ready; $logf:" >&2; tail -20 "$logf" >&2; return 1
    fi
    sleep 0.2
  done
  die "no 'SpreadOSD node ready' within 180 s in $logf"
}

await_port() {  # pid, port: polls until something accepts on 127.0.0.1:port
  local pid="$1" port="$2"
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || die "process $pid exited before it listened on $port"
    sleep 0.1
  done
  die "nothing listens on $port after 30 s"
}

FAILED=0
run_bench() {  # name, port, size, concurrency, count[, extra spread-bench options]: JSON to WORK/name.json
  local name="$1" port="$2" size="$3" conc="$4" count="$5" rc=0
  shift 5
  log "$name: $count x $size, concurrency $conc, port $port $*"
  echo "$name $(cut -d' ' -f1-3 /proc/loadavg)" >> "$WORK/load-per-run.txt"   # other processes' load skews a run
  JAVA_OPTS="${BENCH_JAVA_OPTS:-}" "$HERE/scripts/spread-bench" --host 127.0.0.1 --port "$port" --size "$size" \
    --concurrency "$conc" --count "$count" "$@" --json > "$WORK/$name.json" 2> "$WORK/$name.log" || rc=$?
  if [ "$rc" != 0 ]; then
    FAILED=1
    echo "spread-bench $name exited $rc; last lines of $WORK/$name.log:" >&2
    tail -8 "$WORK/$name.log" >&2
  fi
}

run_workloads() {  # target, port
  local target="$1" port="$2" size conc count
  for size in 1K 1M; do
    count="$SMALL_COUNT"; [ "$size" = 1M ] && count="$LARGE_COUNT"
    for conc in 1 16; do run_bench "$target-$size-c$conc" "$port" "$size" "$conc" "$count" --duration "$PHASE_SECONDS"; done
  done
  if [ "$HUGE_COUNT" -gt 0 ]; then run_bench "$target-256M-c1" "$port" 256M 1 "$HUGE_COUNT"; fi
}

warm_up() {  # target, port: JVM warm-up of the server, not reported
  [ "$WARMUP_COUNT" -gt 0 ] || return 0
  log "$1: warm-up, $WARMUP_COUNT x 1K at concurrency 16 (not reported)"
  JAVA_OPTS="${BENCH_JAVA_OPTS:-}" "$HERE/scripts/spread-bench" --host 127.0.0.1 --port "$2" --size 1K \
    --concurrency 16 --count "$WARMUP_COUNT" --json > "$WORK/$1-warmup.json" 2> "$WORK/$1-warmup.log" \
    || echo "warm-up against $1 failed (see $WORK/$1-warmup.log); going on" >&2
}

# ---------------------------------------------------------------- targets
bench_standalone() {
  require_free $(node_ports "$SA_PORT") "$SA_HTTP"
  rm -rf "$WORK/standalone"; mkdir -p "$WORK/standalone"
  log "standalone: starting (RPC $SA_PORT, HTTP $SA_HTTP)"
  local pid
  JAVA_OPTS="${SERVER_JAVA_OPTS:-}" "$HERE/scripts/spread-standalone" -s "$WORK/standalone/data" -l 127.0.0.1 \
    -p "$SA_PORT" --http "$SA_HTTP" > "$WORK/standalone.server.log" 2>&1 &
  pid=$!; STARTED_PIDS+=("$pid")
  await_ready "$pid" "$WORK/standalone.server.log"
  warm_up standalone "$SA_HTTP"
  run_workloads standalone "$SA_HTTP"
  stop_started
  rm -rf "$WORK/standalone"
}

SCRIPT_CLUSTER_PORTS="$(node_ports 18700 18800 18900 18901 18902 18903) 18090 18080"

bench_cluster() {
  local mode="$CLUSTER_MODE" p http
  if [ "$mode" = auto ]; then
    mode=script
    for p in $SCRIPT_CLUSTER_PORTS; do port_free "$p" || { mode=own; break; }; done
    [ "$mode" = own ] && log "cluster: spread-cluster's fixed ports (18700.., with +1000/+2000/+3000) are not all free; starting the same topology on PORT_BASE ports"
  fi
  rm -rf "$WORK/cluster"; mkdir -p "$WORK/cluster"
  if [ "$mode" = script ]; then
    for p in $SCRIPT_CLUSTER_PORTS; do port_free "$p" || die "port $p is in use: spread-cluster cannot start"; done
    log "cluster: scripts/spread-cluster start $WORK/cluster"
    SCRIPT_CLUSTER_DIR="$WORK/cluster"
    JAVA_OPTS="${SERVER_JAVA_OPTS:-}" "$HERE/scripts/spread-cluster" start "$WORK/cluster" >&2
    http=18090
  else
    require_free $(node_ports "$OWN_CS" "$OWN_GW" "$OWN_DS" $((OWN_DS + 1)) $((OWN_DS + 2)) $((OWN_DS + 3))) "$OWN_GW_HTTP"
    log "cluster: CS $OWN_CS, DSs $OWN_DS..$((OWN_DS + 3)) (replication-sets 0 and 1), GW $OWN_GW (HTTP $OWN_GW_HTTP)"
    local pid nid pids=() names=()
    export JAVA_OPTS="${SERVER_JAVA_OPTS:-}"
    "$HERE/scripts/spread-cs" -s "$WORK/cluster/data-cs" -p "$OWN_CS" -l 127.0.0.1 > "$WORK/cluster/cs.log" 2>&1 &
    pid=$!; STARTED_PIDS+=("$pid")
    await_ready "$pid" "$WORK/cluster/cs.log"
    for nid in 0 1 2 3; do
      "$HERE/scripts/spread-ds" --cs "127.0.0.1:$OWN_CS" --address "127.0.0.1:$((OWN_DS + nid))" --nid "$nid" \
        --rsid "$((nid / 2))" --name "ds$nid" --store "$WORK/cluster/data-ds$nid" -l 127.0.0.1 \
        > "$WORK/cluster/ds$nid.log" 2>&1 &
      pid=$!; STARTED_PIDS+=("$pid"); pids+=("$pid"); names+=("ds$nid")
    done
    "$HERE/scripts/spread-gw" --cs "127.0.0.1:$OWN_CS" --port "$OWN_GW" --http "$OWN_GW_HTTP" -s "$WORK/cluster/data-gw" \
      -l 127.0.0.1 > "$WORK/cluster/gw.log" 2>&1 &
    pid=$!; STARTED_PIDS+=("$pid"); pids+=("$pid"); names+=("gw")
    unset JAVA_OPTS
    local i
    for i in "${!pids[@]}"; do await_ready "${pids[$i]}" "$WORK/cluster/${names[$i]}.log"; done
    "$HERE/scripts/spreadctl" "127.0.0.1:$OWN_CS" nodes >&2 || true
    http="$OWN_GW_HTTP"
  fi
  warm_up cluster "$http"
  run_workloads cluster "$http"
  stop_started
  rm -rf "$WORK/cluster"
}

ensure_nginx() {
  if ! command -v nginx > /dev/null; then
    [ "$(id -u)" = 0 ] || die "nginx is not installed; as root: apt-get install -y --no-install-recommends nginx-light"
    log "installing nginx-light"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light > "$WORK/apt.log" 2>&1 || {
      DEBIAN_FRONTEND=noninteractive apt-get update > "$WORK/apt.log" 2>&1
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light >> "$WORK/apt.log" 2>&1
    } || die "apt-get install nginx-light failed; see $WORK/apt.log"
  fi
  nginx -V 2>&1 | grep -q -- --with-http_dav_module || die "this nginx has no http_dav_module (nginx -V)"
}

bench_nginx() {
  ensure_nginx
  require_free "$NGINX_PORT"
  local dir="$WORK/nginx"
  rm -rf "$dir"; mkdir -p "$dir/root/data" "$dir/tmp/body" "$dir/tmp/proxy" "$dir/tmp/fastcgi" "$dir/tmp/uwsgi" "$dir/tmp/scgi"
  local user_line=""
  [ "$(id -u)" = 0 ] && user_line="user root;"   # workers write the files; the work dir belongs to us
  cat > "$dir/nginx.conf" <<EOF
# written by bench/compare.sh
$user_line
daemon off;
master_process on;
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  default_type application/octet-stream;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $dir/root;
    location /data/ {
      dav_methods PUT DELETE;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
      client_max_body_size 0;
    }
  }
}
EOF
  nginx -t -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" > "$dir/nginx-t.log" 2>&1 || { cat "$dir/nginx-t.log" >&2; die "nginx -t failed"; }
  log "nginx: starting on 127.0.0.1:$NGINX_PORT, root $dir/root"
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" > "$dir/nginx.out" 2>&1 &
  local pid=$!; STARTED_PIDS+=("$pid")
  await_port "$pid" "$NGINX_PORT"
  run_workloads nginx "$NGINX_PORT"
  stop_started
  rm -rf "$dir/root"
}

disk_reference() {
  log "dd: ${DD_MB} MiB, O_DIRECT, fsync at the end ($WORK/ddtest)"
  local out
  if ! out=$(dd if=/dev/zero of="$WORK/ddtest" bs=1M count="$DD_MB" oflag=direct conv=fsync 2>&1); then
    echo "dd with oflag=direct failed ($out); trying without O_DIRECT" >&2
    out=$(dd if=/dev/zero of="$WORK/ddtest" bs=1M count="$DD_MB" conv=fsync 2>&1) || die "dd failed: $out"
  fi
  rm -f "$WORK/ddtest"
  echo "$out" > "$WORK/dd.txt"
  echo "$out" | tail -1 >&2
}

# ---------------------------------------------------------------- run
if [ ! -f "$HERE/target/spreadosd.jar" ]; then
  log "building SpreadOSD (mvn -q -DskipTests package)"
  (cd "$HERE" && mvn -q -DskipTests package) || die "the build failed"
fi
command -v python3 > /dev/null || die "python3 is needed to put the table together"

rm -f "$WORK"/*.json "$WORK"/dd.txt "$WORK"/results.md "$WORK"/load-*.txt
echo "$(nproc) $(cut -d' ' -f1-3 /proc/loadavg)" > "$WORK/load-before.txt"
log "work dir $WORK; counts: 1 KiB $SMALL_COUNT, 1 MiB $LARGE_COUNT, 256 MiB $HUGE_COUNT; warm-up $WARMUP_COUNT"
disk_reference
for t in $TARGETS; do
  case "$t" in
    standalone) bench_standalone ;;
    cluster) bench_cluster ;;
    nginx) bench_nginx ;;
    *) die "unknown target $t" ;;
  esac
done

echo "$(nproc) $(cut -d' ' -f1-3 /proc/loadavg)" > "$WORK/load-after.txt"
python3 - "$WORK" <<'PY' | tee "$WORK/results.md" || FAILED=1
import json, os, re, sys

work = sys.argv[1]
runs = {}
bad = []
for name in sorted(os.listdir(work)):
    if not name.endswith(".json") or name.endswith("-warmup.json"):
        continue
    m = re.fullmatch(r"(\w+)-(\w+)-c(\d+)\.json", name)
    if not m:
        continue
    try:
        with open(os.path.join(work, name)) as f:
            runs[(m.group(1), m.group(2), int(m.group(3)))] = json.load(f)
    except (ValueError, OSError):
        bad.append(name)

dd = None
try:
    line = open(os.path.join(work, "dd.txt")).read().strip().splitlines()[-1]
    m = re.search(r"([\d.,]+) ([kMG]?)B/s", line)
    if m:
        dd = float(m.group(1).replace(",", ".")) * {"k": 1e-3, "": 1e-6, "M": 1, "G": 1e3}[m.group(2)]
except (OSError, IndexError):
    pass

def fmt(v, digits=1):
    if v is None:
        return "-"
    if isinstance(v, float) and v >= 100:
        return f"{v:.0f}"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)

def phase(target, size, conc, ph):
    r = runs.get((target, size, conc))
    return r.get(ph) if r else None

targets = [t for t in ("standalone", "cluster", "nginx") if any(k[0] == t for k in runs)]
sizes = [s for s in ("1K", "1M", "256M") if any(k[1] == s for k in runs)]
out = ["| target | size | conc. | phase | req/s | MB/s | p50 ms | p99 ms | p99.9 ms | errors | vs nginx |",
       "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
for size in sizes:
    for conc in (1, 16):
        for ph in ("put", "get"):
            for t in targets:
                p = phase(t, size, conc, ph)
                if (t, size, conc) not in runs:
                    continue
                if p is None:
                    out.append(f"| {t} | {size} | {conc} | {ph.upper()} | - | - | - | - | - | failed | - |")
                    continue
                ref = phase("nginx", size, conc, ph)
                ratio = "-"
                if t != "nginx" and ref and ref.get("requests_per_sec"):
                    ratio = f"{p['requests_per_sec'] / ref['requests_per_sec']:.2f}"
                out.append(f"| {t} | {size} | {conc} | {ph.upper()} | {fmt(p['requests_per_sec'])} | {fmt(p['mb_per_sec'])} | "
                           f"{fmt(p['p50_ms'], 2)} | {fmt(p['p99_ms'], 2)} | {fmt(p['p999_ms'], 2)} | {p['errors']} | {ratio} |")
print("\n".join(out))
print()
print(f"Disk reference (dd bs=1M oflag=direct conv=fsync): {fmt(dd)} MB/s" if dd else "Disk reference (dd): not measured")
if "256M" in sizes and dd:
    print()
    print("| target | 256 MiB PUT MB/s | PUT ÷ dd | 256 MiB GET MB/s | GET ÷ dd |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for t in targets:
        pu, ge = phase(t, "256M", 1, "put"), phase(t, "256M", 1, "get")
        if pu is None and ge is None:
            continue
        cell = lambda p: (fmt(p["mb_per_sec"]), f"{p['mb_per_sec'] / dd:.2f}") if p else ("-", "-")
        a, b = cell(pu); c, d = cell(ge)
        print(f"| {t} | {a} | {b} | {c} | {d} |")

# the issue's targets, for each SpreadOSD target
def ratio(t, size, conc, ph):
    p, ref = phase(t, size, conc, ph), phase("nginx", size, conc, ph)
    if not p or not ref or not ref.get("requests_per_sec"):
        return None
    return p["requests_per_sec"] / ref["requests_per_sec"]

checks = []
for t in (t for t in targets if t != "nginx"):
    def check(label, value, goal, ok, shown):
        checks.append(f"| {t} | {label} | {shown(value) if value is not None else '-'} | {goal} | "
                      f"{'-' if value is None else ('met' if ok(value) else 'missed')} |")
    pct = lambda v: f"{v * 100:.0f}%"
    check("1 KiB GET, 16 conn., vs nginx", ratio(t, "1K", 16, "get"), ">= 30%", lambda v: v >= 0.30, pct)
    for c in (1, 16):
        check(f"1 KiB PUT, {c} conn., vs nginx", ratio(t, "1K", c, "put"), ">= 10%", lambda v: v >= 0.10, pct)
    for c in (1, 16):
        check(f"1 MiB GET, {c} conn., vs nginx", ratio(t, "1M", c, "get"), ">= 60%", lambda v: v >= 0.60, pct)
    p = phase(t, "256M", 1, "put")
    check("256 MiB PUT vs dd write+fsync", (p["mb_per_sec"] / dd) if p and dd else None, ">= 60%", lambda v: v >= 0.60, pct)
    p = phase(t, "1K", 16, "get")
    check("1 KiB GET, 16 conn., p99", p["p99_ms"] if p else None, "< 10 ms", lambda v: v < 10, lambda v: f"{v:.2f} ms")
if checks:
    print()
    print("| target | goal | measured | wanted | |")
    print("| --- | --- | ---: | ---: | --- |")
    print("\n".join(checks))

load = []
for when in ("before", "after"):
    try:
        cpus, *avg = open(os.path.join(work, f"load-{when}.txt")).read().split()
        load.append(f"{when} {' / '.join(avg)}")
    except (OSError, ValueError):
        pass
if load:
    # "after" and load-per-run.txt include this benchmark's own client and server threads; "before" is the rest
    print(f"\nLoad average (1/5/15 min) on {cpus} CPUs: {'; '.join(load)}"
          + (" (other processes were busy before the start: the figures may be low)"
             if float(load[0].split()[1]) > int(cpus) and load[0].startswith("before") else ""))

errors = sum((p or {}).get("errors", 0) for r in runs.values() for p in (r.get("put"), r.get("get")))
if bad:
    print(f"\nNo JSON from: {', '.join(bad)}")
print(f"\nErrors in all runs: {errors}")
sys.exit(1 if errors or bad else 0)
PY
log "results: $WORK/results.md"
exit "$FAILED"
