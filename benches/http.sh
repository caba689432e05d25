#!/usr/bin/env bash
# Registry HTTP benchmarks (not run in CI). Three measurements:
#
#  1. fetch: wrk -t1 -c32 -d10s on GET /api/v1/schemas/{id} and
#     GET /api/v1/contracts/{name}/versions/latest/schema, side by side with the bare
#     axum floor from ../shared/bench/peers/axumfloor serving the same bytes;
#  2. writes: 1,000 sequential registrations (curl, one connection each) on SQLite
#     and, when ACCORD_BENCH_POSTGRES_URL is set, PostgreSQL;
#  3. cold start: time from exec to the first answered `latest` fetch over a
#     database seeded with 10,000 contracts x 10 versions.
#
#   bash benches/http.sh [OUTDIR]
#
# env: PEERS_DIR (default ~/.cache/accord-peers; run ../shared/bench/setup_peers.sh
#      first), ACCORD_BENCH_POSTGRES_URL (an empty database: it is written to),
#      DURATION (10s), RUNS (3), PORT (18091), FLOOR_PORT (18081),
#      COLD_CONTRACTS (10000), COLD_VERSIONS (10), REGISTRATIONS (1000).
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
COLD_CONTRACTS="${COLD_CONTRACTS:-10000}"
COLD_VERSIONS="${COLD_VERSIONS:-10}"
REGISTRATIONS="${REGISTRATIONS:-1000}"
FLOOR="$PEERS/axumfloor/target/release/axumfloor"
ACCORD="$ROOT/target/release/accord"
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

command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }
[[ -x "$FLOOR" ]] || { echo "axum floor not built: bash ../shared/bench/setup_peers.sh" >&2; exit 1; }
( cd "$ROOT" && cargo build --release --bin accord -q )

wait_ready() {  # url
  for _ in $(seq 200); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "server at $1 did not come up" >&2; return 1
}

start_accord() {  # database-url -> sets ACCORD_PID
  "$ACCORD" serve --database "$1" --listen "127.0.0.1:$PORT" > "$WORK/accord.out" 2> "$OUT/accord.stderr" &
  ACCORD_PID=$!; PIDS+=("$ACCORD_PID")
  wait_ready "http://127.0.0.1:$PORT/healthz"
}

stop() {  # pid
  kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true
}

rps() { awk '/^Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1 == "99%" {print $2}' "$1"; }

# ---------------------------------------------------------------- 1. fetch
echo "== fetch (wrk -t1 -c32 -d$DURATION, $RUNS runs, interleaved)"
start_accord "sqlite://$WORK/fetch.db"
BODY_FILE="$ROOT/contracts/orders.order_placed/1.1.0.json"
jq -c '{schema: .}' "$ROOT/contracts/orders.order_placed/1.0.0.json" |
  curl -fsS -X POST "http://127.0.0.1:$PORT/api/v1/contracts/orders.order_placed/versions" -H 'content-type: application/json' -d @- > /dev/null
ID=$(jq -c '{schema: .}' "$BODY_FILE" |
  curl -fsS -X POST "http://127.0.0.1:$PORT/api/v1/contracts/orders.order_placed/versions" -H 'content-type: application/json' -d @- | jq .schema_id)
# The floor serves the exact bytes the registry answers.
curl -fsS "http://127.0.0.1:$PORT/api/v1/schemas/$ID" > "$WORK/body.json"
"$FLOOR" "$WORK/body.json" "127.0.0.1:$FLOOR_PORT" 2> "$OUT/floor.stderr" &
FLOOR_PID=$!; PIDS+=("$FLOOR_PID")
wait_ready "http://127.0.0.1:$FLOOR_PORT/schemas/order-placed.json"
declare -A URLS=(
  [floor]="http://127.0.0.1:$FLOOR_PORT/schemas/order-placed.json"
  [by_id]="http://127.0.0.1:$PORT/api/v1/schemas/$ID"
  [latest]="http://127.0.0.1:$PORT/api/v1/contracts/orders.order_placed/versions/latest/schema"
)
for name in floor by_id latest; do
  curl -fsS "${URLS[$name]}" | cmp -s - "$WORK/body.json" || { echo "!! $name does not serve the exact body" >&2; exit 1; }
  wrk -t1 -c8 -d2s "${URLS[$name]}" > /dev/null   # warm-up
done
for run in $(seq "$RUNS"); do
  for name in floor by_id latest; do
    wrk -t1 -c32 "-d$DURATION" --latency "${URLS[$name]}" > "$OUT/fetch.$name.run$run.txt"
    echo "  $name run $run: $(rps "$OUT/fetch.$name.run$run.txt") req/s, p99 $(p99 "$OUT/fetch.$name.run$run.txt")"
  done
done
stop "$FLOOR_PID"; stop "$ACCORD_PID"

# ---------------------------------------------------------------- 2. writes
register_many() {  # label database-url
  start_accord "$2"
  python3 - "$REGISTRATIONS" > "$WORK/bodies.ndjson" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    # Annotation-only revisions: each one is compatible, and gets a patch bump.
    print(json.dumps({"schema": {"type": "object", "properties": {"id": {"type": "string"}}, "description": f"revision {i}"}}))
PY
  local start end
  start=$(date +%s.%N)
  while IFS= read -r body; do
    curl -fsS -o /dev/null -X POST "http://127.0.0.1:$PORT/api/v1/contracts/bench.writes/versions" \
      -H 'content-type: application/json' -d "$body"
  done < "$WORK/bodies.ndjson"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" -v n="$REGISTRATIONS" -v l="$1" \
    'BEGIN { printf "  %s: %d sequential registrations in %.2f s = %.0f/s (%.2f ms each, incl. curl start-up)\n", l, n, e-s, n/(e-s), (e-s)*1000/n }' \
    | tee -a "$OUT/writes.txt"
  stop "$ACCORD_PID"
}
echo "== writes"
register_many sqlite "sqlite://$WORK/writes.db"
if [[ -n "${ACCORD_BENCH_POSTGRES_URL:-}" ]]; then
  register_many postgres "$ACCORD_BENCH_POSTGRES_URL"
fi

# ---------------------------------------------------------------- 3. cold start
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

echo "raw results in $OUT"
