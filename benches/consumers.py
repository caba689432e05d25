#!/usr/bin/env python3
"""Driver of benches/consumers.sh: what consumers cost a registration, measured over
HTTP against a running `accord serve` (standard library only).

Two contracts with the same schema: `bench.read` has CONSUMERS consumers deployed in
a protected `prod` (each reading `^1` and two of its fields), `bench.peer` has none.
ROUNDS registrations are made to each, interleaved (peer, read, peer, read, ...), each
adding one optional property (a minor version, which every consumer receives), over
one keep-alive connection, each timed. Prints the median, p90 and mean of both and
their ratios. `consumer_protection` is `warn` on both (the default), so every
registration to `bench.read` computes the consumers section.

    python3 benches/consumers.py PORT [CONSUMERS [ROUNDS]]
"""

import http.client
import json
import os
import statistics
import sys
import time

PORT = int(sys.argv[1])
CONSUMERS = int(sys.argv[2]) if len(sys.argv) > 2 else 100
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 200
FIELDS = 20
# READ_ALL=1: the readers declare no fields (they read everything, so every change that
# breaks them is shown to them, with its witness).
READ_ALL = os.environ.get("READ_ALL") == "1"

conn = http.client.HTTPConnection("127.0.0.1", PORT)


def call(method, path, body=None):
    data = None if body is None else json.dumps(body)
    headers = {"content-type": "application/json"} if data else {}
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    text = resp.read()
    if resp.status >= 300:
        sys.exit(f"{method} {path}: {resp.status} {text[:300]!r}")
    return json.loads(text) if text else None


def schema(extra):
    props = {f"f{i}": {"type": "string"} for i in range(FIELDS)}
    props.update({f"x{i}": {"type": "integer"} for i in range(extra)})
    return {"type": "object", "properties": props, "required": ["f0"],
            "additionalProperties": False}


call("PUT", "/api/v1/environments/prod", {"protected": True})
for c in ("bench.read", "bench.peer"):
    call("POST", f"/api/v1/contracts/{c}/versions", {"schema": schema(0)})
for n in range(CONSUMERS):
    name = f"reader.c{n:03}"
    fields = [] if READ_ALL else [f"/f{n % FIELDS}", f"/f{(n * 7 + 3) % FIELDS}"]
    call("PUT", f"/api/v1/consumers/{name}", {
        "app_version": "sha1",
        "reads": [{"contract": "bench.read", "range": "^1", "fields": fields}],
    })
    call("POST", f"/api/v1/consumers/{name}/deployments",
         {"app_version": "sha1", "environment": "prod"})

times = {"bench.peer": [], "bench.read": []}
rows = 0
for i in range(1, ROUNDS + 1):
    for c in ("bench.peer", "bench.read"):
        start = time.perf_counter()
        answer = call("POST", f"/api/v1/contracts/{c}/versions", {"schema": schema(i)})
        times[c].append((time.perf_counter() - start) * 1000)
        if c == "bench.read":
            rows = answer["consumers_total"]
if rows != CONSUMERS:
    sys.exit(f"the consumers section listed {rows} readers, not {CONSUMERS}")


def q(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


peer, read = times["bench.peer"], times["bench.read"]
print(f"{ROUNDS} registrations each, interleaved; {CONSUMERS} consumers deployed against bench.read")
print(f"{'':12} {'median ms':>10} {'p90 ms':>8} {'mean ms':>8}")
for label, xs in (("no consumers", peer), (f"{CONSUMERS} consumers", read)):
    print(f"{label:12} {statistics.median(xs):10.2f} {q(xs, 0.9):8.2f} {statistics.mean(xs):8.2f}")
print(f"ratio        {statistics.median(read) / statistics.median(peer):10.2f} "
      f"{q(read, 0.9) / q(peer, 0.9):8.2f} {statistics.mean(read) / statistics.mean(peer):8.2f}")
