#!/usr/bin/env python3
"""The load of benches/soak.sh: CLIENTS threads, each on its own keep-alive connection,
send a mix of reads, registrations and dry runs (some of them issue 10's hostile pair)
to one `accord serve` for DURATION seconds; then every acknowledged registration is
looked up and each contract's seqs are checked to be 1..n without gaps.

    python3 benches/soak.py BASE_URL PID DURATION_SECONDS CLIENTS OUT.json

Prints a summary (answers by kind and status, p50/p99 latency per kind, peak RSS of PID)
and writes it as JSON to OUT.json. Exits 1 when an acknowledged registration is missing,
a seq is missing or repeated, or the server answered a 5xx other than 503.
Standard library only.
"""

import http.client
import json
import random
import sys
import threading
import time
import urllib.parse
from collections import defaultdict

CONTRACTS = 20          # contracts registrations and reads spread over
HOSTILE_MEMBERS = 1500  # issue 10's allOf of oneOfs

# What each client does, by weight (out of 100).
MIX = [("read", 60), ("register", 20), ("dry_run", 15), ("hostile_dry_run", 5)]


def hostile(raise_by, reverse):
    members = [
        {"oneOf": [{"type": "integer", "minimum": j + raise_by},
                   {"type": "string", "minLength": j}]}
        for j in range(HOSTILE_MEMBERS)
    ]
    if reverse:
        members.reverse()
    return {"allOf": members}


def schema(contract, n):
    """Version n of a contract: a new description each time (compatible, a patch)."""
    return {"type": "object", "properties": {"id": {"type": "string"}, "n": {"type": "integer"}},
            "required": ["id"], "description": f"{contract} revision {n}"}


class Client:
    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port
        self.conn = None

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        headers = {"content-type": "application/json"} if data is not None else {}
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                text = resp.read()
                if resp.getheader("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return resp.status, text
            except (http.client.HTTPException, OSError) as e:
                self.conn.close()
                self.conn = None
                # A kept-alive connection the server closed between requests: retry
                # once on a new one (nothing was answered, so nothing was acknowledged).
                if attempt == 1 or not isinstance(
                    e, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
                ):
                    return 0, str(e).encode()
        return 0, b""


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))
    return values[k]


def peak_rss_kib(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    base, pid, duration, clients, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    setup = Client(base)
    names = [f"soak.c{i:02d}" for i in range(CONTRACTS)]
    acknowledged = defaultdict(dict)  # contract -> {version: seq}
    ack_lock = threading.Lock()
    next_rev = {n: 1 for n in names}
    rev_lock = threading.Lock()
    for n in names:
        status, text = setup.call("POST", f"/api/v1/contracts/{n}/versions", {"schema": schema(n, 0)})
        assert status in (200, 201), (status, text[:300])
        a = json.loads(text)
        acknowledged[n][a["version"]] = a["seq"]
    status, text = setup.call("POST", "/api/v1/contracts/soak.hostile/versions", {"schema": hostile(0, False)})
    assert status in (200, 201), (status, text[:300])
    hostile_body = {"schema": hostile(1, True)}

    latencies = defaultdict(list)          # kind -> [seconds]
    statuses = defaultdict(lambda: defaultdict(int))  # kind -> status -> count
    codes = defaultdict(int)               # (kind, status, code) -> count
    stats_lock = threading.Lock()
    deadline = time.monotonic() + duration
    kinds = [k for k, w in MIX for _ in range(w)]

    def worker(seed):
        rnd = random.Random(seed)
        c = Client(base)
        while time.monotonic() < deadline:
            kind = rnd.choice(kinds)
            name = rnd.choice(names)
            if kind == "read":
                path = rnd.choice([
                    f"/api/v1/contracts/{name}/versions/latest/schema",
                    f"/api/v1/contracts/{name}/versions",
                    f"/api/v1/contracts/{name}/versions/latest",
                ])
                t = time.monotonic()
                status, text = c.call("GET", path)
            elif kind == "register":
                with rev_lock:
                    n = next_rev[name]
                    next_rev[name] += 1
                t = time.monotonic()
                status, text = c.call("POST", f"/api/v1/contracts/{name}/versions", {"schema": schema(name, n)})
                if status in (200, 201):
                    a = json.loads(text)
                    with ack_lock:
                        acknowledged[name][a["version"]] = a["seq"]
            elif kind == "dry_run":
                with rev_lock:
                    n = next_rev[name]
                t = time.monotonic()
                status, text = c.call("POST", f"/api/v1/contracts/{name}/compatibility", {"schema": schema(name, n)})
            else:
                t = time.monotonic()
                status, text = c.call("POST", "/api/v1/contracts/soak.hostile/compatibility", hostile_body)
            took = time.monotonic() - t
            code = ""
            if status >= 400:
                try:
                    code = json.loads(text)["error"]["code"]
                except (ValueError, KeyError, TypeError):
                    code = text[:60].decode(errors="replace")
            with stats_lock:
                latencies[kind].append(took)
                statuses[kind][status] += 1
                if code:
                    codes[(kind, status, code)] += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    started = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - started

    # Every acknowledged registration is there, and seqs are 1..n.
    problems = []
    check = Client(base)
    for name, versions in sorted(acknowledged.items()):
        status, text = check.call("GET", f"/api/v1/contracts/{name}/versions")
        if status != 200:
            problems.append(f"{name}: listing answered {status}")
            continue
        listed = {v["version"]: v["seq"] for v in json.loads(text)["versions"]}
        for version, seq in versions.items():
            if listed.get(version) != seq:
                problems.append(f"{name} {version}: acknowledged with seq {seq}, listed {listed.get(version)}")
        seqs = sorted(listed.values())
        if seqs != list(range(1, len(seqs) + 1)):
            problems.append(f"{name}: seqs are not 1..{len(seqs)}: {seqs[:10]}…")
    acked = sum(len(v) for v in acknowledged.values())
    server_errors = sum(n for k in statuses for s, n in statuses[k].items() if (s >= 500 and s != 503) or s == 0)

    summary = {
        "seconds": round(elapsed, 1),
        "clients": clients,
        "requests": sum(len(v) for v in latencies.values()),
        "acknowledged_registrations": acked,
        "problems": problems,
        "by_kind": {
            k: {
                "count": len(latencies[k]),
                "statuses": {str(s): n for s, n in sorted(statuses[k].items())},
                "p50_ms": round(percentile(latencies[k], 50) * 1000, 1),
                "p99_ms": round(percentile(latencies[k], 99) * 1000, 1),
                "max_ms": round(max(latencies[k]) * 1000, 1),
            }
            for k in sorted(latencies)
        },
        "error_codes": {f"{k} {s} {c}": n for (k, s, c), n in sorted(codes.items())},
        "peak_rss_mib": (peak_rss_kib(pid) or 0) // 1024,
    }
    json.dump(summary, open(out, "w"), indent=2)
    print(f"  {summary['requests']} requests in {summary['seconds']} s from {clients} clients; "
          f"{acked} registrations acknowledged; peak RSS {summary['peak_rss_mib']} MiB")
    for k, v in summary["by_kind"].items():
        print(f"  {k:16} {v['count']:7}  p50 {v['p50_ms']:8} ms  p99 {v['p99_ms']:8} ms  max {v['max_ms']:8} ms  statuses {v['statuses']}")
    for k, n in summary["error_codes"].items():
        print(f"  error {k}: {n}")
    if problems:
        print("  LOST OR BROKEN:", *problems[:20], sep="\n    ")
    else:
        print("  every acknowledged registration is present; seqs are gap-free")
    if server_errors:
        print(f"  {server_errors} answers were 5xx (other than 503) or no answer")
    return 1 if problems or server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
