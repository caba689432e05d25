#!/usr/bin/env bash
# Soak test of `accord serve` (not run in CI): CLIENTS clients (50) send a mix of reads
# (60 %), registrations (20 %), dry runs (15 %) and issue 10's hostile dry run (5 %: a
# 1,500-member allOf of oneOfs against the same with every minimum raised, in reverse
# order) for DURATION on each backend; then every acknowledged registration is looked
# up and each contract's seqs must be 1..n without gaps. Prints the answers by status
# and error code, p50/p99/max latency per kind of request, and the server's peak RSS.
#
#   bash benches/soak.sh [OUTDIR]
#
# env: DURATION (10m; `90s`, `3m` and plain seconds work), CLIENTS (50),
#      ACCORD_SOAK_POSTGRES_URL (an empty PostgreSQL database: it is written to; the
#      PostgreSQL run is skipped without it), PORT (18191),
#      ACCORD_BIN (a prebuilt accord to measure instead of building this checkout's),
#      SERVE_FLAGS (more flags for `accord serve`, e.g. "--workers 1").
# The driver is benches/soak.py (Python 3, standard library only). Every server this
# script starts is stopped by its own PID on exit. Exits 1 when a registration was
# lost, a seq is missing, or the server answered a 5xx other than 503.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/target/bench-soak-$(date +%Y%m%d-%H%M%S)}"
DURATION="${DURATION:-10m}"
CLIENTS="${CLIENTS:-50}"
PORT="${PORT:-18191}"
ACCORD="${ACCORD_BIN:-$ROOT/target/release/accord}"
read -r -a FLAGS <<< "${SERVE_FLAGS:-}"
WORK="$(mktemp -d)"
mkdir -p "$OUT"

case "$DURATION" in
  *m) SECONDS_TOTAL=$(( ${DURATION%m} * 60 )) ;;
  *s) SECONDS_TOTAL=${DURATION%s} ;;
  *) SECONDS_TOTAL=$DURATION ;;
esac

PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do
    [[ -n "$p" ]] && kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

[[ -n "${ACCORD_BIN:-}" ]] || ( cd "$ROOT" && cargo build --release --bin accord -q )

wait_ready() {  # url
  for _ in $(seq 200); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "server at $1 did not come up" >&2; return 1
}

status=0
soak() {  # label database-url
  local label="$1" url="$2"
  echo "== $label: $CLIENTS clients for $DURATION"
  "$ACCORD" serve --database "$url" --listen "127.0.0.1:$PORT" "${FLAGS[@]}" \
    > "$WORK/accord.out" 2> "$OUT/accord.$label.stderr" &
  local pid=$!; PIDS+=("$pid")
  wait_ready "http://127.0.0.1:$PORT/healthz"
  python3 "$ROOT/benches/soak.py" "http://127.0.0.1:$PORT" "$pid" "$SECONDS_TOTAL" "$CLIENTS" \
    "$OUT/soak.$label.json" | tee "$OUT/soak.$label.txt" || status=1
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" || { echo "!! the server is down" >&2; status=1; }
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || { echo "!! the server did not stop cleanly" >&2; status=1; }
}

soak sqlite "sqlite://$WORK/soak.db"
if [[ -n "${ACCORD_SOAK_POSTGRES_URL:-}" ]]; then
  soak postgres "$ACCORD_SOAK_POSTGRES_URL"
else
  echo "== postgres: skipped (set ACCORD_SOAK_POSTGRES_URL to an empty database)"
fi
echo "results in $OUT"
exit "$status"
