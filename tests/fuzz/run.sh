#!/usr/bin/env bash
# Fuzzes every operation of openapi.yaml with Schemathesis against `accord serve` on a
# fresh SQLite database: no answer may be a 5xx, and every answer must be one the
# specification documents (status code, content type, body schema).
#
#   bash tests/fuzz/run.sh                                   # after cargo build [--release]
#   ACCORD_BIN=target/debug/accord bash tests/fuzz/run.sh    # a particular binary
#   FUZZ_EXAMPLES=300 bash tests/fuzz/run.sh                 # more cases per operation
#
# Builds nothing: it uses ACCORD_BIN, else the newer of target/release/accord and
# target/debug/accord. Installs Schemathesis on the first run (a venv in
# target/fuzz-venv). Bounded: FUZZ_EXAMPLES cases per operation (default 100, about
# half a minute) and at most FUZZ_SECONDS in all (default 180). The seed is printed;
# `st run … --seed N` replays a failing run. Exits non-zero when anything fails.
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

venv="$root/target/fuzz-venv"
if ! "$venv/bin/st" --version >/dev/null 2>&1; then
    echo "== installing Schemathesis into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==4.32.5"
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

# An admin token first: with tokens in the database every operation needs one, so the
# fuzzer carries it and reaches every operation (without it, the first token the fuzzer
# itself created through POST /api/v1/tokens would shut it out of everything after).
token="$("$bin" token create --database "sqlite://$work/accord.db" --name fuzz --role admin)"

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
echo "== accord serve at $url"

# Two passes, both carrying the admin token. Revoking a token is fuzzed last and alone:
# the stateful phase links the token list to the revocation, so it revokes the fuzzer's
# own token, and every request after that would only ever see 401.
fuzz() {
    local status=0
    (cd "$work" && timeout "${FUZZ_SECONDS:-180}" "$venv/bin/st" run "$root/openapi.yaml" \
        --url "$url" \
        --header "Authorization: Bearer $token" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --max-examples "${FUZZ_EXAMPLES:-100}" \
        --request-timeout 10 \
        --no-color "$@") || status=$?
    if [ "$status" -ne 0 ]; then
        [ "$status" -eq 124 ] && echo "Schemathesis did not finish within ${FUZZ_SECONDS:-180} s" >&2
        echo "== server log (stderr, last 50 lines)"; tail -n 50 "$work/server.err"
        exit 1
    fi
}
fuzz --exclude-operation-id revokeToken
fuzz --include-operation-id revokeToken
