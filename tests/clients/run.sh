#!/usr/bin/env bash
# Runs the real Confluent clients (Python confluent-kafka, Node
# @kafkajs/confluent-schema-registry) against `accord serve`.
#
#   bash tests/clients/run.sh                                   # after cargo build [--release]
#   ACCORD_BIN=target/debug/accord bash tests/clients/run.sh    # a particular binary
#
# Builds nothing: it uses ACCORD_BIN, else the newer of target/release/accord and
# target/debug/accord, and says how to build one when there is none. Installs the clients on
# the first run (a venv in target/client-venv, npm packages in tests/clients/node_modules)
# and skips that when they are present. Starts the server on a free port over a
# temporary SQLite database, waits for its "accord listening on" line, runs both
# suites; then makes a token on the database (from then on every request needs one)
# and runs both clients again with basic auth (`<name>:<token>`, and a wrong
# password); stops the server. Exits non-zero when anything fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${ACCORD_BIN:-}"
if [ -z "$bin" ]; then
    for candidate in "$root/target/release/accord" "$root/target/debug/accord"; do
        if [ -x "$candidate" ] && { [ -z "$bin" ] || [ "$candidate" -nt "$bin" ]; }; then
            bin="$candidate"
        fi
    done
    [ -n "$bin" ] || {
        echo "no accord binary in $root/target: run 'cargo build --release' (or 'cargo build') first, or set ACCORD_BIN=/path/to/accord" >&2
        exit 2
    }
    echo "== using $bin (set ACCORD_BIN to choose another)"
fi
case "$bin" in /*) ;; *) bin="$root/$bin" ;; esac
[ -x "$bin" ] || { echo "ACCORD_BIN=$bin is not an executable" >&2; exit 2; }

venv="$root/target/client-venv"
if ! "$venv/bin/python" -c 'import confluent_kafka.schema_registry.json_schema, jsonschema, referencing, pytest' 2>/dev/null; then
    echo "== installing the Python client into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "confluent-kafka[schemaregistry,json]==2.16.1" jsonschema referencing pytest attrs cachetools httpx
fi
if [ ! -d "$here/node_modules/@kafkajs/confluent-schema-registry" ]; then
    echo "== installing the Node client into $here/node_modules"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the server picks a free port and prints the address it got.
"$bin" serve --database "sqlite://$work/accord.db" --listen "127.0.0.1:0" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 1 300); do
    grep -q "accord listening on" "$work/server.out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { echo "accord serve exited early:" >&2; cat "$work/server.err" >&2; exit 1; }
    sleep 0.1
done
url="$(sed -n 's/^accord listening on \(http:[^ ]*\).*/\1/p' "$work/server.out" | head -n 1)"
[ -n "$url" ] || { echo "accord serve did not start" >&2; cat "$work/server.err" >&2; exit 1; }
export ACCORD_URL="$url"
echo "== accord serve at $ACCORD_URL"

status=0
echo "== Python client (confluent-kafka)"
(cd "$here" && "$venv/bin/python" -m pytest -q -p no:cacheprovider test_python_client.py) || status=1
echo "== Node client (@kafkajs/confluent-schema-registry)"
(cd "$here" && node --test node_client.test.js) || status=1

echo "== basic auth: a producer token made on the database"
token="$("$bin" token create --database "sqlite://$work/accord.db" --name clients --role producer 2>/dev/null)"
# The server notices the first token within a second; wait until it asks for one.
for _ in $(seq 1 50); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$ACCORD_URL/subjects")" = 401 ] && break
    sleep 0.1
done
export ACCORD_USER_INFO="clients:$token"
(cd "$here" && "$venv/bin/python" -m pytest -q -p no:cacheprovider test_python_auth.py) || status=1
(cd "$here" && node --test node_auth.test.js) || status=1
unset ACCORD_USER_INFO token
if [ "$status" -ne 0 ]; then
    echo "== server log (stderr)"; tail -n 50 "$work/server.err"
fi
exit "$status"
