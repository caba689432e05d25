#!/usr/bin/env bash
# What a token costs a fetch, in instructions rather than seconds (not run in CI).
# Requests per second on a shared 2-core machine swing by a third from run to run;
# callgrind's instruction counts repeat to a fraction of a percent, whatever else runs.
#
# One `accord serve --anonymous-read --workers 1` under valgrind's callgrind, on a
# registry with a reader token. Two rounds of: N sequential keep-alive requests to each
# of `GET /api/v1/schemas/{id}` and `…/versions/latest/schema` without a credential (an
# anonymous reader), then the same with `Authorization: Bearer <reader token>`. The
# counters are zeroed before and dumped after each batch; the script prints the server's
# user-space instructions per request of each batch and the ratio. Kernel time (the
# socket work, about half of a fetch's time here) is not counted, so the ratio of
# requests per second is closer to 1 than this one.
#
#   bash benches/auth-instructions.sh [OUTDIR]
#
# env: N (2000 requests per route and batch), PORT (18199), SERVE_FLAGS (more flags
#      for `accord serve`: `--no-metrics` measures a fetch without recording metrics),
#      ACCORD_BIN (default target/release/accord; build it first).
# Needs valgrind (callgrind_control), curl, python3.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/target/bench-auth-instructions-$(date +%Y%m%d-%H%M%S)}"
N="${N:-2000}"
PORT="${PORT:-18199}"
ACCORD="${ACCORD_BIN:-$ROOT/target/release/accord}"
[[ -x "$ACCORD" ]] || { echo "no $ACCORD: run 'cargo build --release' first, or set ACCORD_BIN" >&2; exit 2; }
mkdir -p "$OUT"
WORK="$(mktemp -d)"
PID=""
cleanup() {
  [[ -n "$PID" ]] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

DB="sqlite://$WORK/accord.db"
ADMIN="$("$ACCORD" token create --database "$DB" --name bench-admin --role admin 2>/dev/null)"
READER="$("$ACCORD" token create --database "$DB" --name bench-reader --role reader 2>/dev/null)"

valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" \
  "$ACCORD" serve --database "$DB" --listen "127.0.0.1:$PORT" --anonymous-read --workers 1 ${SERVE_FLAGS:-} \
  > "$WORK/serve.out" 2> "$OUT/serve.stderr" &
PID=$!
for _ in $(seq 1 600); do
  curl -fs "http://127.0.0.1:$PORT/healthz" > /dev/null 2>&1 && break
  kill -0 "$PID" 2>/dev/null || { echo "accord serve exited:" >&2; cat "$OUT/serve.stderr" >&2; exit 1; }
  sleep 0.1
done

curl -fsS -X POST "http://127.0.0.1:$PORT/api/v1/contracts/bench.auth/versions" \
  -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"schema": {"type": "object", "properties": {"id": {"type": "string"}}}}' > "$WORK/registered.json"
ID="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["schema_id"])' "$WORK/registered.json")"

load() {  # count [token]
  python3 - "$PORT" "$ID" "$@" <<'PY'
import http.client, sys
port, schema_id, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
headers = {"Authorization": "Bearer " + sys.argv[4]} if len(sys.argv) > 4 else {}
conn = http.client.HTTPConnection("127.0.0.1", port)
for path in (f"/api/v1/schemas/{schema_id}", "/api/v1/contracts/bench.auth/versions/latest/schema"):
    for _ in range(n):
        conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        answer.read()
        if answer.status != 200:
            sys.exit(f"{path}: {answer.status}")
PY
}

# Warm both paths (caches, the token's entry) before counting.
load 200; load 200 "$READER"
batch() {  # name [token]
  callgrind_control -z "$PID" > /dev/null 2>&1
  load "$N" "${@:2}"
  callgrind_control -d "$1" "$PID" > /dev/null 2>&1
  local file
  file="$(grep -l "^desc: Trigger: dump $1\$" "$OUT"/callgrind.out.* | head -n 1)"
  awk -v n="$((2 * N))" '/^(summary|totals):/ {print int($2 / n); exit}' "$file"
}
for round in 1 2; do
  none=$(batch "none$round")
  token=$(batch "token$round" "$READER")
  python3 -c "import sys; a, b = int(sys.argv[1]), int(sys.argv[2]); print(f'round $round: {a} instructions per fetch without a credential, {b} with a reader token: {a / b:.2f}x')" "$none" "$token" | tee -a "$OUT/summary.txt"
done
echo "callgrind files in $OUT (callgrind_annotate --inclusive=yes FILE)"
