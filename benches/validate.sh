#!/usr/bin/env bash
# Benchmark of `accord validate` against the yardsticks of ../shared/bench, measured
# side by side in one session (interleaved runs, medians), reported as ratios.
#
#   bash benches/validate.sh [RUNS] [OUTDIR]
#
# Peers (built by ../shared/bench/setup_peers.sh into $PEERS_DIR):
#   ajv             ajv 8 + ajv-formats on node
#   rust-parse-only serde_json parse to Value, 1 thread (the floor)
#   rust-is_valid   the raw jsonschema 0.61 `is_valid` runner, 1 thread
# Accord:
#   accord          accord validate --schema S DATA --format json (every core)
#   accord-t1       the same with --threads 1
#
# Targets (from the issue): accord >= 2.5x ajv; accord-t1 >= 0.9x rust-is_valid;
# accord >= 1.1x rust-parse-only; every run reports the generator's invalid count;
# peak RSS of accord < 100 MB.
#
# env: PEERS_DIR (default ~/.cache/accord-peers), BENCH_DIR (default ../shared/bench
# beside the repo), RECORDS (default 200000), ACCORD (binary; default: build
# target/release/accord), SETUP=1 to run setup_peers.sh first, IDLE_MIN (default 90)
# and IDLE_WAIT (default 300): before each run, wait up to IDLE_WAIT seconds for the
# machine to be at least IDLE_MIN % idle (a shared build box skews every figure).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="${BENCH_DIR:-$REPO/../shared/bench}"
PEERS="${PEERS_DIR:-$HOME/.cache/accord-peers}"
RUNS="${1:-5}"
OUT="${2:-$PEERS/results/accord-validate-$(date +%Y%m%d-%H%M%S)}"
RECORDS="${RECORDS:-200000}"
DATA_DIR="$PEERS/data"
DATA="$DATA_DIR/orders_${RECORDS}.ndjson"
SCHEMA="$DATA_DIR/order_placed.schema.json"
MANIFEST="$DATA_DIR/orders_${RECORDS}.manifest.json"
RUSTVAL="$PEERS/rustval/target/release/rustval"

if [[ "${SETUP:-0}" == 1 || ! -x "$RUSTVAL" || ! -d "$PEERS/ajv/node_modules/ajv" ]]; then
  PEERS_DIR="$PEERS" bash "$BENCH/setup_peers.sh"
fi
if [[ ! -f "$DATA" || ! -f "$MANIFEST" ]]; then
  mkdir -p "$DATA_DIR"
  python3 "$BENCH/gen_events.py" --schema "$SCHEMA" --out "$DATA" --records "$RECORDS" --seed 42 \
    --manifest "$MANIFEST"
fi
if [[ -z "${ACCORD:-}" ]]; then
  (cd "$REPO" && cargo build --release --quiet --bin accord)
  ACCORD="$REPO/target/release/accord"
fi

mkdir -p "$OUT"
: > "$OUT/results.jsonl"

# Percentage of CPU time idle over half a second.
idle_pct() {
  local a b
  read -r -a a < /proc/stat; sleep 0.5; read -r -a b < /proc/stat
  local total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  echo $(( 100 * (b[4] + b[5] - a[4] - a[5]) / (total > 0 ? total : 1) ))
}
wait_idle() {
  local deadline=$((SECONDS + ${IDLE_WAIT:-300})) idle
  while :; do
    idle="$(idle_pct)"
    (( idle >= ${IDLE_MIN:-90} )) && { echo "$idle"; return; }
    (( SECONDS >= deadline )) && { echo "$idle"; return; }
    sleep 2
  done
}
peer_cmd() {
  case "$1" in
    ajv)             echo "node $BENCH/peers/ajv_runner.js $SCHEMA $DATA" ;;
    rust-parse-only) echo "$RUSTVAL parse $SCHEMA $DATA" ;;
    rust-is_valid)   echo "$RUSTVAL is_valid $SCHEMA $DATA" ;;
    accord)          echo "$ACCORD validate --schema $SCHEMA $DATA --format json --max-invalid 100%" ;;
    accord-t1)       echo "$ACCORD validate --schema $SCHEMA $DATA --format json --max-invalid 100% --threads 1" ;;
  esac
}
IDS=(${ONLY_IDS:-ajv rust-parse-only rust-is_valid accord accord-t1})

echo "data: $DATA ($(stat -c %s "$DATA") bytes), runs: $RUNS, out: $OUT, cores: $(nproc)"
cat "$DATA" > /dev/null # page cache
for run in $(seq 1 "$RUNS"); do
  for id in "${IDS[@]}"; do
    idle="$(wait_idle)"
    tfile="$(mktemp)"
    # shellcheck disable=SC2046
    line="$(/usr/bin/time -f '%e %U %S %M' -o "$tfile" $(peer_cmd "$id") 2>"$OUT/$id.run$run.stderr" | tail -n 1)" || true
    read -r wall user sys rss < <(tail -n 1 "$tfile"); rm -f "$tfile"
    python3 - "$id" "$run" "$wall" "$user" "$sys" "$rss" "$line" "$OUT/results.jsonl" "$idle" <<'EOF'
import json, sys
pid, run, wall, user, sys_s, rss, line, results, idle = sys.argv[1:]
rec = json.loads(line)
rec = {"id": pid, "run": int(run), "records": rec["records"], "invalid": rec["invalid"],
       "records_per_s": rec["records_per_s"], "wall_s": float(wall), "cpu_s": float(user) + float(sys_s),
       "maxrss_mb": round(int(rss) / 1024, 1), "idle_before_pct": int(idle)}
with open(results, "a") as f:
    f.write(json.dumps(rec) + "\n")
print("run %(run)d %(id)-16s %(records_per_s)8d rec/s invalid=%(invalid)d rss=%(maxrss_mb)sMB idle-before=%(idle_before_pct)d%%" % rec)
EOF
  done
done

python3 - "$OUT/results.jsonl" "$MANIFEST" <<'EOF' | tee "$OUT/summary.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
expected = json.load(open(sys.argv[2]))["invalid_expected"]
by = {}
for r in rows:
    by.setdefault(r["id"], []).append(r)
med = {k: statistics.median(r["records_per_s"] for r in v) for k, v in by.items()}
print("| runner | median records/s | runs | invalid (expected %d) | max RSS MB |" % expected)
print("|---|---:|---:|---|---:|")
for k, v in by.items():
    inv = sorted({r["invalid"] for r in v})
    print("| %s | %d | %d | %s | %.1f |" % (k, med[k], len(v), ",".join(map(str, inv)), max(r["maxrss_mb"] for r in v)))
print()
checks = [
    ("accord / ajv", "accord", "ajv", 2.5),
    ("accord --threads 1 / rust is_valid", "accord-t1", "rust-is_valid", 0.9),
    ("accord / rust parse-only (1 thread)", "accord", "rust-parse-only", 1.1),
]
print("| ratio | value | target | met |")
print("|---|---:|---:|---|")
ok = True
for name, a, b, target in checks:
    if a in med and b in med:
        r = med[a] / med[b]
        ok &= r >= target
        print("| %s | %.2f | >= %.1f | %s |" % (name, r, target, "yes" if r >= target else "NO"))
counts_ok = all(r["invalid"] == expected for r in rows if r["id"] != "rust-parse-only")
rss_ok = all(r["maxrss_mb"] < 100 for r in rows if r["id"].startswith("accord"))
print("\ninvalid counts all %d: %s; accord peak RSS < 100 MB: %s" % (expected, counts_ok, rss_ok))
sys.exit(0 if ok and counts_ok and rss_ok else 1)
EOF
