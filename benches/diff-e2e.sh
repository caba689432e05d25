#!/usr/bin/env bash
# End-to-end cost of comparing a big nested schema, as a user meets it (not run in CI):
#
#  1. `accord diff OLD NEW`, the whole process (read, parse, check, compare, witnesses,
#     output), in the default text format and with --format json: RUNS runs each,
#     best and median wall time, and the peak RSS (the largest over the runs);
#  2. the same schemas through the API of `accord serve` on a fresh SQLite file: per
#     run, a fresh contract gets OLD registered (first version: no comparison), then
#     NEW checked as a dry run (`POST .../compatibility`: breaking, so not registered),
#     then the compatible variant registered (`POST .../versions`: compared, stored).
#     Server time is the `duration_ms` of the server's own request log line (from its
#     headers to its answer, the body's arrival included); client time (loopback, body sent and answer read) is given beside it.
#
# The pair comes from benches/gen_nested_pair.py: 29 levels of nested objects, 200
# properties per level (about 280 KB); NEW changes a leaf's type at level 25 (breaking)
# and adds an optional property at level 10 (compatible).
#
#   bash benches/diff-e2e.sh [OUTDIR]
#
# env: ACCORD_BIN (a prebuilt accord to measure instead of building this checkout's),
#      RUNS (10), PORT (18095), LEVELS (29), WIDTH (200), PARTS ("diff api").
# The server this script starts is stopped by its own PID on exit. Needs python3.
# Nothing else should be running; compare only figures from one session.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/target/bench-diff-e2e-$(date +%Y%m%d-%H%M%S)}"
RUNS="${RUNS:-10}"
PORT="${PORT:-18095}"
PARTS=" ${PARTS:-diff api} "
ACCORD="${ACCORD_BIN:-$ROOT/target/release/accord}"
WORK="$(mktemp -d)"
mkdir -p "$OUT"

SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

[[ -n "${ACCORD_BIN:-}" ]] || ( cd "$ROOT" && cargo build --release --bin accord -q )
python3 "$ROOT/benches/gen_nested_pair.py" "$WORK" --levels "${LEVELS:-29}" --width "${WIDTH:-200}" | tee "$OUT/pair.txt"
echo "accord: $ACCORD ($("$ACCORD" --version))" | tee -a "$OUT/pair.txt"

# ---------------------------------------------------------------- 1. accord diff
if [[ "$PARTS" == *" diff "* ]]; then
  python3 - "$ACCORD" "$WORK" "$RUNS" "$OUT" <<'PY' | tee "$OUT/diff.txt"
import os, statistics, subprocess, sys, time
accord, work, runs, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
old, new = f"{work}/old.json", f"{work}/new.json"

def once(args, sink):
    """Wall time (ms) and peak RSS (MiB) of one `accord` process, from wait4."""
    start = time.perf_counter()
    proc = subprocess.Popen([accord, *args], stdout=sink, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 1:
        sys.exit(f"accord {' '.join(args)} exited {proc.returncode}: {proc.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024

for label, extra in (("text (default)", []), ("--format json", ["--format", "json"])):
    args = ["diff", old, new, *extra]
    name = "json" if extra else "text"
    with open(f"{out}/diff.{name}.out", "wb") as sink:
        once(args, sink)  # warm the page cache
    walls, rss = [], []
    for _ in range(runs):
        with open(os.devnull, "wb") as sink:
            w, r = once(args, sink)
        walls.append(w)
        rss.append(r)
    print(f"  accord diff, {label}: best {min(walls):.1f} ms, median {statistics.median(walls):.1f} ms "
          f"over {runs} runs; peak RSS {max(rss):.1f} MiB (median {statistics.median(rss):.1f})")
PY
  head -c 600 "$OUT/diff.text.out"; echo
fi

# ---------------------------------------------------------------- 2. the API
if [[ "$PARTS" == *" api "* ]]; then
  ACCORD_LOG=warn,accord::request=debug ACCORD_LOG_FORMAT=json \
    "$ACCORD" serve --database "sqlite://$WORK/e2e.db" --listen "127.0.0.1:$PORT" \
    > "$OUT/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 200); do
    python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1])" \
      "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break
    sleep 0.05
  done
  python3 - "$PORT" "$WORK" "$RUNS" "$OUT/server.log" <<'PY' | tee "$OUT/api.txt"
import http.client, json, re, statistics, sys, time
port, work, runs, log = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
docs = {k: open(f"{work}/{k}.json").read() for k in ("old", "new", "compatible")}
conn = http.client.HTTPConnection("127.0.0.1", port)
client = {}

def post(path, doc, rid, expect):
    body = '{"schema":' + docs[doc] + "}"
    start = time.perf_counter()
    conn.request("POST", path, body, {"content-type": "application/json", "x-request-id": rid})
    resp = conn.getresponse()
    answer = resp.read()
    client[rid] = (time.perf_counter() - start) * 1000
    if resp.status != expect:
        sys.exit(f"{rid}: answered {resp.status}, expected {expect}: {answer[:300]!r}")
    return json.loads(answer)

for i in range(runs + 1):  # run 0 warms up
    base = f"/api/v1/contracts/bench.nested-{i}"
    post(f"{base}/versions", "old", f"register-old-{i}", 201)
    dry = post(f"{base}/compatibility", "new", f"check-new-{i}", 200)
    assert dry["compatible"] is False, dry
    post(f"{base}/versions", "compatible", f"register-compatible-{i}", 201)
conn.close()
time.sleep(0.2)  # the log line is written after the answer

# Requests were sent one after the other on one connection, so the server's POST log
# lines are in the order they were sent.
order = list(client)
lines = [json.loads(l) for l in open(log) if l.startswith("{") and '"http.method":"POST"' in l]
server = {rid: line["duration_ms"] for rid, line in zip(order, lines)}
if len(lines) != len(order):
    print(f"  !! {len(order)} requests sent, {len(lines)} POST lines in the server log")
for label, prefix in (("register OLD (first version, no comparison)", "register-old"),
                      ("dry run of NEW (POST .../compatibility, breaking)", "check-new"),
                      ("register the compatible variant (compared, stored)", "register-compatible")):
    ids = [f"{prefix}-{i}" for i in range(1, runs + 1)]
    s = [server[r] for r in ids if r in server]
    c = [client[r] for r in ids]
    if len(s) != len(ids):
        print(f"  !! {len(ids) - len(s)} of {prefix} missing from the server log")
    print(f"  {label}: server best {min(s):.1f} ms, median {statistics.median(s):.1f} ms; "
          f"client median {statistics.median(c):.1f} ms")
PY
fi
