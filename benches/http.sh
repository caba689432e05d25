#!/usr/bin/env bash
# Registry HTTP benchmarks (not run in CI). Three measurements:
#
#  1. fetch: wrk -t1 -c32 -d10s on GET /api/v1/schemas/{id} and
#     GET /api/v1/contracts/{name}/versions/latest/schema, side by side with the bare
#     axum floor from ../shared/bench/peers/axumfloor serving the same bytes, for each
#     runtime worker setting in FETCH_WORKERS (both servers alike);
#  2. writes: 1,000 sequential registrations (one keep-alive connection, each timed)
#     on SQLite and, when ACCORD_BENCH_POSTGRES_URL is set, PostgreSQL;
#  3. cold start: time from exec to the first answered `latest` fetch over a
#     database seeded with 10,000 contracts x 10 versions;
#  4. auth (only when PARTS names it): the two fetches of 1. on a registry with no
#     token (open) and on one where every request carries a reader token
#     (`Authorization: Bearer`), interleaved, wrk -t1 -c32 each; the bar is >= 0.9x.
#  5. metrics (only when PARTS names it): the two fetches of 1. on a server started
#     with --no-metrics ("off") and on one recording metrics ("on", the default),
#     interleaved, wrk -t1 -c32 each; the bar is >= 0.95x. A third column sends the
#     "on" server `Accept-Encoding: gzip, br`: the small schema stays uncompressed
#     (under 1 KiB), so it measures what deciding that costs.
#
#   bash benches/http.sh [OUTDIR]
#
# env: PEERS_DIR (default ~/.cache/accord-peers; run ../shared/bench/setup_peers.sh
#      first), ACCORD_BENCH_POSTGRES_URL (an empty database: it is written to),
#      DURATION (10s), RUNS (3), PORT (18091), FLOOR_PORT (18081),
#      FETCH_WORKERS ("default 1"),
#      COLD_CONTRACTS (10000), COLD_VERSIONS (10), REGISTRATIONS (1000),
#      PARTS ("fetch writes cold"; add "auth" for 4., "metrics" for 5.),
#      AUTH_PORT (PORT + 1), METRICS_PORT (PORT + 3),
#      ACCORD_BIN (a prebuilt accord to measure instead of building this checkout's),
#      BASELINE_BIN (another accord, e.g. one built from main before a change: its
#      two fetch routes are measured in the same rounds, interleaved, as base_id and
#      base_latest on BASELINE_PORT (PORT + 2), each ratio also given against it).
# Every server this script starts is stopped by its own PID on exit. Needs wrk, curl,
# python3 (and psql for the PostgreSQL parts). Follow ../shared/bench/README.md's
# ground rules: nothing else running; compare only figures from one session.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS="${PEERS_DIR:-$HOME/.cache/accord-peers}"
OUT="${1:-$ROOT/target/bench-http-$(date +%Y%m%d-%H%M%S)}"
DURATION="${DURATION:-10s}"
RUNS="${RUNS:-3}"
PORT="${PORT:-18091}"
FLOOR_PORT="${FLOOR_PORT:-18081}"
BASELINE_PORT="${BASELINE_PORT:-$((PORT + 2))}"
COLD_CONTRACTS="${COLD_CONTRACTS:-10000}"
COLD_VERSIONS="${COLD_VERSIONS:-10}"
REGISTRATIONS="${REGISTRATIONS:-1000}"
PARTS=" ${PARTS:-fetch writes cold} "
FLOOR="$PEERS/axumfloor/target/release/axumfloor"
ACCORD="${ACCORD_BIN:-$ROOT/target/release/accord}"
WORK="$(mktemp -d)"
mkdir -p "$OUT"

PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do
    [[ -n "$p" ]] && kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ "$PARTS" == *" fetch "* ]]; then
  command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }
  [[ -x "$FLOOR" ]] || { echo "axum floor not built: bash ../shared/bench/setup_peers.sh" >&2; exit 1; }
fi
[[ -n "${ACCORD_BIN:-}" ]] || ( cd "$ROOT" && cargo build --release --bin accord -q )

wait_ready() {  # url
  for _ in $(seq 200); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "server at $1 did not come up" >&2; return 1
}

start_accord() {  # database-url [serve flags...] -> sets ACCORD_PID
  "$ACCORD" serve --database "$1" --listen "127.0.0.1:$PORT" "${@:2}" > "$WORK/accord.out" 2> "$OUT/accord.stderr" &
  ACCORD_PID=$!; PIDS+=("$ACCORD_PID")
  wait_ready "http://127.0.0.1:$PORT/healthz"
}

stop() {  # pid
  kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true
}

rps() { awk '/^Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1 == "99%" {print $2}' "$1"; }

# ---------------------------------------------------------------- 1. fetch
# Each worker setting in FETCH_WORKERS is measured for both servers alike: `default`
# (tokio's one worker per core, what `accord serve` runs with unless told) and a
# number N (`accord serve --workers N`, the floor with TOKIO_WORKER_THREADS=N). On a
# 2-core machine wrk's thread takes one core, so `1` leaves the server the other.
fetch_round() {  # workers-label
  local label="$1" flags=() floor_env=()
  if [[ "$label" != default ]]; then
    flags=(--workers "$label"); floor_env=(TOKIO_WORKER_THREADS="$label")
  fi
  echo "== fetch, workers: $label (wrk -t1 -c32 -d$DURATION, $RUNS runs, interleaved)"
  start_accord "sqlite://$WORK/fetch-$label.db" "${flags[@]}"
  jq -c '{schema: .}' "$ROOT/contracts/orders.order_placed/1.0.0.json" |
    curl -fsS -X POST "http://127.0.0.1:$PORT/api/v1/contracts/orders.order_placed/versions" -H 'content-type: application/json' -d @- > /dev/null
  local id
  id=$(jq -c '{schema: .}' "$ROOT/contracts/orders.order_placed/1.1.0.json" |
    curl -fsS -X POST "http://127.0.0.1:$PORT/api/v1/contracts/orders.order_placed/versions" -H 'content-type: application/json' -d @- | jq .schema_id)
  # The floor serves the exact bytes the registry answers.
  curl -fsS "http://127.0.0.1:$PORT/api/v1/schemas/$id" > "$WORK/body.json"
  env "${floor_env[@]}" "$FLOOR" "$WORK/body.json" "127.0.0.1:$FLOOR_PORT" 2> "$OUT/floor.stderr" &
  FLOOR_PID=$!; PIDS+=("$FLOOR_PID")
  wait_ready "http://127.0.0.1:$FLOOR_PORT/schemas/order-placed.json"
  declare -A urls=(
    [floor]="http://127.0.0.1:$FLOOR_PORT/schemas/order-placed.json"
    [by_id]="http://127.0.0.1:$PORT/api/v1/schemas/$id"
    [latest]="http://127.0.0.1:$PORT/api/v1/contracts/orders.order_placed/versions/latest/schema"
  )
  local names=(floor by_id latest)
  if [[ -n "${BASELINE_BIN:-}" ]]; then
    "$BASELINE_BIN" serve --database "sqlite://$WORK/base-$label.db" --listen "127.0.0.1:$BASELINE_PORT" "${flags[@]}" > "$WORK/base.out" 2> "$OUT/base.stderr" &
    BASE_PID=$!; PIDS+=("$BASE_PID")
    wait_ready "http://127.0.0.1:$BASELINE_PORT/healthz"
    local v base_id
    for v in 1.0.0 1.1.0; do
      base_id=$(jq -c '{schema: .}' "$ROOT/contracts/orders.order_placed/$v.json" |
        curl -fsS -X POST "http://127.0.0.1:$BASELINE_PORT/api/v1/contracts/orders.order_placed/versions" -H 'content-type: application/json' -d @- | jq .schema_id)
    done
    urls[base_id]="http://127.0.0.1:$BASELINE_PORT/api/v1/schemas/$base_id"
    urls[base_latest]="http://127.0.0.1:$BASELINE_PORT/api/v1/contracts/orders.order_placed/versions/latest/schema"
    names+=(base_id base_latest)
  fi
  local name run f
  for name in "${names[@]}"; do
    curl -fsS "${urls[$name]}" | cmp -s - "$WORK/body.json" || { echo "!! $name does not serve the exact body" >&2; exit 1; }
    wrk -t1 -c8 -d2s "${urls[$name]}" > /dev/null   # warm-up
  done
  for run in $(seq "$RUNS"); do
    for name in "${names[@]}"; do
      f="$OUT/fetch.$label.$name.run$run.txt"
      wrk -t1 -c32 "-d$DURATION" --latency "${urls[$name]}" > "$f"
      echo "  $name run $run: $(rps "$f") req/s, p99 $(p99 "$f")"
    done
  done
  stop "$FLOOR_PID"; stop "$ACCORD_PID"
  [[ -n "${BASE_PID:-}" ]] && stop "$BASE_PID"
  python3 - "$OUT" "$label" "$RUNS" "${names[@]}" <<'PY' | tee -a "$OUT/fetch.summary.txt"
import re, statistics, sys
out, label, runs, names = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
def read(name, run):
    text = open(f"{out}/fetch.{label}.{name}.run{run}.txt").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    v, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
    return rps, float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
rows = {n: [read(n, r) for r in range(1, runs + 1)] for n in names}
for name in names:
    ratios = [rows[name][i][0] / rows["floor"][i][0] for i in range(runs)]
    p99s = [p for _, p in rows[name]]
    print(f"  workers {label:>7} {name:>6}: median {statistics.median(r for r, _ in rows[name]):9.0f} req/s, "
          f"{statistics.median(ratios):.2f}x the floor (runs {' / '.join(f'{x:.2f}' for x in ratios)}), "
          f"p99 median {statistics.median(p99s):.2f} ms (runs {' / '.join(f'{p:.2f}' for p in p99s)})")
# The same route of this build against the baseline's, run by run.
for name, base in (("by_id", "base_id"), ("latest", "base_latest")):
    if base in rows:
        ratios = [rows[name][i][0] / rows[base][i][0] for i in range(runs)]
        print(f"  workers {label:>7} {name:>6} vs baseline: median {statistics.median(ratios):.2f}x "
              f"(runs {' / '.join(f'{x:.2f}' for x in ratios)})")
PY
}
if [[ "$PARTS" == *" fetch "* ]]; then
  for workers in ${FETCH_WORKERS:-default 1}; do
    fetch_round "$workers"
  done
fi

# ---------------------------------------------------------------- 2. writes
register_many() {  # label database-url
  start_accord "$2"
  # One keep-alive connection; every registration timed on its own.
  python3 - "$REGISTRATIONS" "$PORT" "$1" <<'PY' | tee -a "$OUT/writes.txt"
import http.client, json, statistics, sys, time
n, port, label = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conn = http.client.HTTPConnection("127.0.0.1", port)
latencies = []
start = time.perf_counter()
for i in range(n):
    # Annotation-only revisions: each one is compatible, and gets a patch bump.
    body = json.dumps({"schema": {"type": "object", "properties": {"id": {"type": "string"}}, "description": f"revision {i}"}})
    t = time.perf_counter()
    conn.request("POST", "/api/v1/contracts/bench.writes/versions", body, {"content-type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    latencies.append(time.perf_counter() - t)
    if resp.status != 201:
        sys.exit(f"registration {i} answered {resp.status}")
total = time.perf_counter() - start
last = sorted(latencies[-100:])
ms = lambda s: s * 1000
print(f"  {label}: {n} sequential registrations in {total:.2f} s = {n / total:.0f}/s; "
      f"first 100 median {ms(statistics.median(latencies[:100])):.2f} ms; "
      f"last 100 median {ms(statistics.median(last)):.2f} ms, p99 {ms(last[max(0, -(-99 * len(last) // 100) - 1)]):.2f} ms, max {ms(last[-1]):.2f} ms")
PY
  stop "$ACCORD_PID"
}
if [[ "$PARTS" == *" writes "* ]]; then
  echo "== writes"
  register_many sqlite "sqlite://$WORK/writes.db"
  if [[ -n "${ACCORD_BENCH_POSTGRES_URL:-}" ]]; then
    register_many postgres "$ACCORD_BENCH_POSTGRES_URL"
  fi
fi

# ---------------------------------------------------------------- 3. cold start
if [[ "$PARTS" == *" cold "* ]]; then
  echo "== cold start ($COLD_CONTRACTS contracts x $COLD_VERSIONS versions, SQLite)"
  COLD_DB="$WORK/cold.db"
  "$ACCORD" migrate --database "sqlite://$COLD_DB" > /dev/null 2>&1
  python3 - "$COLD_DB" "$COLD_CONTRACTS" "$COLD_VERSIONS" <<'PY'
# Seeds rows directly (the HTTP path would take minutes); fingerprints are distinct
# placeholders, which the serving path never recomputes.
import hashlib, json, sqlite3, sys
db, contracts, versions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
con = sqlite3.connect(db)
now = "2026-01-01T00:00:00Z"
schema_rows, contract_rows, version_rows = [], [], []
sid = 0
for c in range(contracts):
    name = f"bench.contract_{c:05d}"
    for v in range(versions):
        sid += 1
        doc = json.dumps({"type": "object", "description": f"{name} revision {v}"}, separators=(",", ":"))
        schema_rows.append((sid, hashlib.sha256(doc.encode()).hexdigest(), doc, now))
        version_rows.append((name, v + 1, f"1.0.{v}", sid, now))
    contract_rows.append((name, versions + 1, f"1.0.{versions - 1}", now, now))
con.executemany("INSERT INTO schemas (id, fingerprint, original, created_at) VALUES (?, ?, ?, ?)", schema_rows)
con.executemany("INSERT INTO contracts (name, next_seq, highest_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", contract_rows)
con.executemany("INSERT INTO versions (contract, seq, version, schema_id, created_at, deleted) VALUES (?, ?, ?, ?, ?, 0)", version_rows)
con.commit()
PY
  for run in $(seq "$RUNS"); do
    start=$(date +%s.%N)
    start_accord "sqlite://$COLD_DB"
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/api/v1/contracts/bench.contract_09999/versions/latest/schema" 2>/dev/null || \
      curl -fsS -o /dev/null "http://127.0.0.1:$PORT/api/v1/contracts/bench.contract_00000/versions/latest/schema"
    end=$(date +%s.%N)
    peak_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$ACCORD_PID/status" 2>/dev/null || echo 0)
    awk -v s="$start" -v e="$end" -v r="$run" -v kb="$peak_kb" 'BEGIN { printf "  run %d: exec to first latest fetch %.0f ms, peak RSS %.1f MB\n", r, (e-s)*1000, kb/1024 }' | tee -a "$OUT/cold.txt"
    stop "$ACCORD_PID"
  done
fi

# ---------------------------------------------------------------- 4. auth
if [[ "$PARTS" == *" auth "* ]]; then
  AUTH_PORT="${AUTH_PORT:-$((PORT + 1))}"
  echo "== auth: no token vs a reader token (wrk -t1 -c32 -d$DURATION, $RUNS runs, interleaved)"
  "$ACCORD" token create --database "sqlite://$WORK/auth-on.db" --name bench-admin --role admin > "$WORK/admin.token" 2> /dev/null
  "$ACCORD" token create --database "sqlite://$WORK/auth-on.db" --name bench-reader --role reader > "$WORK/reader.token" 2> /dev/null
  ADMIN="$(cat "$WORK/admin.token")"; READER="$(cat "$WORK/reader.token")"
  start_accord "sqlite://$WORK/auth-off.db"; OFF_PID=$ACCORD_PID
  "$ACCORD" serve --database "sqlite://$WORK/auth-on.db" --listen "127.0.0.1:$AUTH_PORT" > "$WORK/accord-on.out" 2> "$OUT/accord-on.stderr" &
  ON_PID=$!; PIDS+=("$ON_PID")
  wait_ready "http://127.0.0.1:$AUTH_PORT/healthz"
  # The open registry refuses any credential (it has no token to match), so only
  # the other one is sent the admin token.
  for port in "$PORT" "$AUTH_PORT"; do
    auth=(); [[ "$port" == "$AUTH_PORT" ]] && auth=(-H "authorization: Bearer $ADMIN")
    for v in 1.0.0 1.1.0; do
      jq -c '{schema: .}' "$ROOT/contracts/orders.order_placed/$v.json" |
        curl -fsS -X POST "http://127.0.0.1:$port/api/v1/contracts/orders.order_placed/versions" \
          -H 'content-type: application/json' "${auth[@]}" -d @- > "$WORK/registered.json"
    done
  done
  id=$(jq .schema_id "$WORK/registered.json")
  declare -A auth_urls=(
    [by_id]="/api/v1/schemas/$id"
    [latest]="/api/v1/contracts/orders.order_placed/versions/latest/schema"
  )
  # Without the token the authenticated registry refuses, so the runs measure the token path.
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$AUTH_PORT${auth_urls[by_id]}")
  [[ "$code" == 401 ]] || { echo "!! the registry with tokens answered $code without one" >&2; exit 1; }
  for name in by_id latest; do
    wrk -t1 -c8 -d2s "http://127.0.0.1:$PORT${auth_urls[$name]}" > /dev/null
    wrk -t1 -c8 -d2s -H "Authorization: Bearer $READER" "http://127.0.0.1:$AUTH_PORT${auth_urls[$name]}" > /dev/null
  done
  for run in $(seq "$RUNS"); do
    for name in by_id latest; do
      f="$OUT/auth.none.$name.run$run.txt"
      wrk -t1 -c32 "-d$DURATION" --latency "http://127.0.0.1:$PORT${auth_urls[$name]}" > "$f"
      echo "  $name without a token, run $run: $(rps "$f") req/s, p99 $(p99 "$f")"
      f="$OUT/auth.reader.$name.run$run.txt"
      wrk -t1 -c32 "-d$DURATION" --latency -H "Authorization: Bearer $READER" "http://127.0.0.1:$AUTH_PORT${auth_urls[$name]}" > "$f"
      grep -q "Non-2xx" "$f" && { echo "!! non-2xx answers with the reader token" >&2; exit 1; }
      echo "  $name with a reader token, run $run: $(rps "$f") req/s, p99 $(p99 "$f")"
    done
  done
  stop "$ON_PID"; stop "$OFF_PID"
  python3 - "$OUT" "$RUNS" <<'PY' | tee -a "$OUT/auth.summary.txt"
import re, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
def rps(kind, name, run):
    text = open(f"{out}/auth.{kind}.{name}.run{run}.txt").read()
    return float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
for name in ("by_id", "latest"):
    none = [rps("none", name, r) for r in range(1, runs + 1)]
    reader = [rps("reader", name, r) for r in range(1, runs + 1)]
    ratios = [b / a for a, b in zip(none, reader)]
    print(f"  {name:>6}: no token median {statistics.median(none):9.0f} req/s, reader token median "
          f"{statistics.median(reader):9.0f} req/s = {statistics.median(ratios):.2f}x "
          f"(runs {' / '.join(f'{x:.2f}' for x in ratios)})")
PY
fi

# ---------------------------------------------------------------- 5. metrics
if [[ "$PARTS" == *" metrics "* ]]; then
  METRICS_PORT="${METRICS_PORT:-$((PORT + 3))}"
  echo "== metrics: --no-metrics vs metrics on (wrk -t1 -c32 -d$DURATION, $RUNS runs, interleaved)"
  start_accord "sqlite://$WORK/metrics-off.db" --no-metrics; OFF_PID=$ACCORD_PID
  "$ACCORD" serve --database "sqlite://$WORK/metrics-on.db" --listen "127.0.0.1:$METRICS_PORT" > "$WORK/accord-on.out" 2> "$OUT/accord-metrics.stderr" &
  ON_PID=$!; PIDS+=("$ON_PID")
  wait_ready "http://127.0.0.1:$METRICS_PORT/healthz"
  for port in "$PORT" "$METRICS_PORT"; do
    for v in 1.0.0 1.1.0; do
      jq -c '{schema: .}' "$ROOT/contracts/orders.order_placed/$v.json" |
        curl -fsS -X POST "http://127.0.0.1:$port/api/v1/contracts/orders.order_placed/versions" \
          -H 'content-type: application/json' -d @- > "$WORK/registered.json"
    done
  done
  id=$(jq .schema_id "$WORK/registered.json")
  declare -A metrics_urls=(
    [by_id]="/api/v1/schemas/$id"
    [latest]="/api/v1/contracts/orders.order_placed/versions/latest/schema"
  )
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics")
  [[ "$code" == 404 ]] || { echo "!! the --no-metrics server answered /metrics with $code" >&2; exit 1; }
  curl -fsS -o /dev/null "http://127.0.0.1:$METRICS_PORT/metrics" || { echo "!! no /metrics on the other" >&2; exit 1; }
  encoding=$(curl -fsS -o /dev/null -w '%header{content-encoding}' -H 'accept-encoding: gzip, br' "http://127.0.0.1:$METRICS_PORT${metrics_urls[by_id]}")
  [[ -z "$encoding" ]] || { echo "!! the small schema was compressed ($encoding)" >&2; exit 1; }
  for name in by_id latest; do
    wrk -t1 -c8 -d2s "http://127.0.0.1:$PORT${metrics_urls[$name]}" > /dev/null
    wrk -t1 -c8 -d2s "http://127.0.0.1:$METRICS_PORT${metrics_urls[$name]}" > /dev/null
  done
  for run in $(seq "$RUNS"); do
    for name in by_id latest; do
      f="$OUT/metrics.off.$name.run$run.txt"
      wrk -t1 -c32 "-d$DURATION" --latency "http://127.0.0.1:$PORT${metrics_urls[$name]}" > "$f"
      echo "  $name, metrics off, run $run: $(rps "$f") req/s, p99 $(p99 "$f")"
      f="$OUT/metrics.on.$name.run$run.txt"
      wrk -t1 -c32 "-d$DURATION" --latency "http://127.0.0.1:$METRICS_PORT${metrics_urls[$name]}" > "$f"
      echo "  $name, metrics on, run $run: $(rps "$f") req/s, p99 $(p99 "$f")"
      f="$OUT/metrics.accept.$name.run$run.txt"
      wrk -t1 -c32 "-d$DURATION" --latency -H 'Accept-Encoding: gzip, br' "http://127.0.0.1:$METRICS_PORT${metrics_urls[$name]}" > "$f"
      echo "  $name, metrics on, accepting gzip/br, run $run: $(rps "$f") req/s, p99 $(p99 "$f")"
    done
  done
  stop "$ON_PID"; stop "$OFF_PID"
  python3 - "$OUT" "$RUNS" <<'PY' | tee -a "$OUT/metrics.summary.txt"
import re, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
def rps(kind, name, run):
    text = open(f"{out}/metrics.{kind}.{name}.run{run}.txt").read()
    return float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
for name in ("by_id", "latest"):
    off = [rps("off", name, r) for r in range(1, runs + 1)]
    for kind in ("on", "accept"):
        on = [rps(kind, name, r) for r in range(1, runs + 1)]
        ratios = [b / a for a, b in zip(off, on)]
        print(f"  {name:>6} {kind:>6}: off median {statistics.median(off):9.0f} req/s, {kind} median "
              f"{statistics.median(on):9.0f} req/s = {statistics.median(ratios):.3f}x "
              f"(runs {' / '.join(f'{x:.3f}' for x in ratios)})")
PY
fi

echo "raw results in $OUT"
