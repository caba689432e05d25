#!/usr/bin/env bash
# What consumers cost (not run in CI), on a release build over SQLite:
#
#  1. registration: ROUNDS registrations to a contract with CONSUMERS consumers deployed
#     against it (the consumers section computed for each) interleaved with as many to
#     a contract without consumers (the peer, same schema, same server), each timed on
#     one keep-alive connection (benches/consumers.py); the bar is a median ratio
#     <= 1.2;
#  2. fetch: wrk -t1 -c32 on GET /api/v1/contracts/bench.read/versions/1.0.0/schema
#     without and with `Accord-Consumer: reader.c001` (a declared consumer: its
#     fetches are recorded off the request path), interleaved, RUNS times each.
#
#   bash benches/consumers.sh [OUTDIR]
#
# env: CONSUMERS (100), ROUNDS (200), DURATION (10s), RUNS (3), PORT (18291),
#      READ_ALL=1 (the readers declare no fields: every change breaking them is shown),
#      ACCORD_BIN (a prebuilt accord instead of building this checkout's).
# Needs python3 and wrk. The server is stopped by its own PID on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/target/bench-consumers-$(date +%Y%m%d-%H%M%S)}"
CONSUMERS="${CONSUMERS:-100}"
ROUNDS="${ROUNDS:-200}"
DURATION="${DURATION:-10s}"
RUNS="${RUNS:-3}"
PORT="${PORT:-18291}"
ACCORD="${ACCORD_BIN:-$ROOT/target/release/accord}"
WORK="$(mktemp -d)"
mkdir -p "$OUT"

PID=""
cleanup() {
  [[ -n "$PID" ]] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }
[[ -n "${ACCORD_BIN:-}" ]] || ( cd "$ROOT" && cargo build --release --bin accord -q )

"$ACCORD" serve --database "sqlite://$WORK/bench.db" --listen "127.0.0.1:$PORT" \
  > "$WORK/accord.out" 2> "$OUT/accord.stderr" &
PID=$!
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$PORT/readyz" > /dev/null && break
  sleep 0.05
done

echo "== registration: $CONSUMERS consumers against none" | tee "$OUT/summary.txt"
python3 "$ROOT/benches/consumers.py" "$PORT" "$CONSUMERS" "$ROUNDS" | tee -a "$OUT/summary.txt"

URL="http://127.0.0.1:$PORT/api/v1/contracts/bench.read/versions/1.0.0/schema"
rate() { awk '/Requests\/sec/ {print $2}' "$1"; }
echo "== fetch: wrk -t1 -c32 -d$DURATION, without and with Accord-Consumer" | tee -a "$OUT/summary.txt"
for run in $(seq 1 "$RUNS"); do
  wrk -t1 -c32 -d"$DURATION" "$URL" > "$OUT/fetch-plain-$run.txt"
  wrk -t1 -c32 -d"$DURATION" -H "Accord-Consumer: reader.c001" "$URL" > "$OUT/fetch-consumer-$run.txt"
  plain=$(rate "$OUT/fetch-plain-$run.txt")
  with=$(rate "$OUT/fetch-consumer-$run.txt")
  python3 -c "import sys; p, w = float(sys.argv[1]), float(sys.argv[2]); print(f'run $run: {p:10.0f} req/s without, {w:10.0f} with, ratio {w / p:.2f}')" "$plain" "$with" \
    | tee -a "$OUT/summary.txt"
done
echo "== figures in $OUT"
