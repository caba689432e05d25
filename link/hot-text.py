#!/usr/bin/env python3
"""Regenerate link/hot-text.ld: the functions the common commands execute, placed together.

A process's resident memory counts every page of the binary's code it has touched, and
the kernel maps code around each fault (64 KiB or a whole page-cache folio), so a
command that runs 1.7 MB of a 16 MB text touches most of it when that 1.7 MB is spread
across the binary. The linker script this writes gathers the functions that `accord`
executes at start, in `diff`, in `validate` and in `serve` into one output section
(`.text.hot`) at the front of the code, in that order, so each command faults in a few
contiguous megabytes instead (see docs/benchmarks-engine.md, "Sixth pass").

The functions are found by running each workload under valgrind's callgrind and
reading the names of the functions it entered. Names are written as patterns that
survive a rebuild: the hash of a legacy-mangled Rust name (`17h…E`), the crate
disambiguators of a v0-mangled one (`Cs…_`) and the `.llvm.N` suffix thin LTO adds
become wildcards. A function the script does not name is not lost, only laid out in
`.text` as before; so the script ages gently, and regenerating it is only a matter of
layout.

    cargo build --release && python3 link/hot-text.py [ACCORD_BIN]

Needs valgrind, nm (binutils) and python3; takes a few minutes.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "link", "hot-text.ld")


def callgrind(accord, args, work, name, stdin=None, ok=(0, 1)):
    """The names of the functions one run of `accord ARGS` entered."""
    out = os.path.join(work, f"{name}.callgrind")
    code = subprocess.run(
        ["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out}", accord, *args],
        stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    ).returncode
    if code not in ok:
        sys.exit(f"accord {' '.join(args)} exited {code}")
    return names_in(out)


def names_in(path):
    names = set()
    with open(path) as f:
        for line in f:
            m = re.match(r"^c?fn=\(\d+\)(?: (.*))?$", line)
            if m and m.group(1):
                names.add(re.sub(r"'\d+$", "", m.group(1).strip()))
    return names


def startup(accord, work):
    names = set()
    for i, args in enumerate((["--version"], ["--help"], ["diff", "--help"])):
        names |= callgrind(accord, args, work, f"start{i}")
    return names


def pair(accord, work):
    """`accord diff` of a large nested pair, the case the engine's figures are taken on."""
    pair = os.path.join(work, "pair")
    subprocess.run([sys.executable, os.path.join(ROOT, "benches", "gen_nested_pair.py"), pair,
                    "--levels", "29", "--width", "200"], check=True, stdout=subprocess.DEVNULL)
    names = set()
    for new in ("new", "compatible"):
        for fmt in ("text", "json"):
            names |= callgrind(accord, ["diff", "--format", fmt, f"{pair}/old.json", f"{pair}/{new}.json"],
                               work, f"pair-{new}-{fmt}")
    return names


def fixtures(accord, work):
    """`accord diff` of the engine's fixtures: the keywords the generated pair does not use."""
    fixtures = os.path.join(ROOT, "tests", "fixtures", "compat")
    names = set()
    for i, file in enumerate(sorted(os.listdir(fixtures))):
        case = json.load(open(os.path.join(fixtures, file)))
        if "old" not in case or "new" not in case:
            continue
        old, new = os.path.join(work, "old.json"), os.path.join(work, "new.json")
        json.dump(case["old"], open(old, "w"))
        json.dump(case["new"], open(new, "w"))
        names |= callgrind(accord, ["diff", "--format", "json", old, new], work, f"fixture{i}", ok=(0, 1, 2, 3))
    return names


def validate(accord, work):
    fixtures = os.path.join(ROOT, "tests", "fixtures", "validate")
    names = set()
    for threads in ("1", "2"):
        with open(os.path.join(fixtures, "mixed.ndjson"), "rb") as records:
            names |= callgrind(accord, ["validate", "--schema", os.path.join(fixtures, "order.schema.json"),
                                        "--threads", threads, "--no-progress", "--max-invalid", "100%",
                                        "--dead-letter", os.path.join(work, "dead.ndjson")],
                               work, f"validate{threads}", stdin=records)
    return names


def serve(accord, work):
    """A registry's first minutes: start, register, fetch, check, validate, stop."""
    port = 18471
    db = f"sqlite://{work}/accord.db"
    out = os.path.join(work, "serve.callgrind")
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out}", accord,
         "serve", "--database", db, "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        exercise(f"http://127.0.0.1:{port}", server)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    return names_in(out)


def exercise(base, server):

    def call(method, path, body=None, ok=(200,)):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(base + path, data=data, method=method,
                                         headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(request) as answer:
                status, reason = answer.status, answer.read()
        except urllib.error.HTTPError as e:
            status, reason = e.code, e.read().decode(errors="replace")
        if status not in ok:
            sys.exit(f"{method} {path}: {status} {reason}")

    for _ in range(600):
        try:
            urllib.request.urlopen(base + "/healthz").read()
            break
        except OSError:
            if server.poll() is not None:
                sys.exit("accord serve exited")
            time.sleep(0.1)
    v1 = {"type": "object", "additionalProperties": False,
          "properties": {"id": {"type": "string"}, "n": {"type": "integer"}}}
    v2 = {"type": "object", "additionalProperties": False,
          "properties": {"id": {"type": "string"}, "n": {"type": "integer"},
                         "at": {"type": "string", "format": "date-time"}}}
    for i in range(3):
        contract = f"/api/v1/contracts/hot.text{i}"
        call("POST", f"{contract}/versions", {"schema": v1}, ok=(200, 201))
        call("POST", f"{contract}/compatibility", {"schema": v2})
        call("POST", f"{contract}/versions", {"schema": v2}, ok=(200, 201))
        call("GET", f"{contract}/versions/latest/schema")
        call("POST", f"{contract}/versions/latest/validate", {"id": "a", "n": "not a number"})
        call("POST", f"/subjects/hot-value{i}/versions", {"schema": json.dumps(v1), "schemaType": "JSON"})
        call("GET", f"/subjects/hot-value{i}/versions/latest")
        call("GET", "/schemas/ids/1")


def pattern(name):
    """A name as a linker-script pattern that the next build's name still matches."""
    if name.startswith("_ZN"):
        name = re.sub(r"\.llvm\.\d+$", "", name)
        return re.sub(r"17h[0-9a-f]{16}E$", "17h*E", name) + "*"
    if name.startswith("_R"):
        name = re.sub(r"\.llvm\.\d+$", "", name)
        return re.sub(r"Cs[0-9A-Za-z]+_", "Cs*_", name) + "*"
    return name


def main():
    accord = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "accord"))
    defined = set()
    for line in subprocess.run(["nm", "--defined-only", accord], capture_output=True, text=True, check=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            defined.add(parts[2])
    seen, groups = set(), []
    with tempfile.TemporaryDirectory() as work:
        for label, workload in (("start", startup), ("accord diff, a large pair", pair),
                                ("accord diff, the engine's fixtures", fixtures),
                                ("accord validate", validate), ("accord serve", serve)):
            names = workload(accord, work) & defined
            patterns = sorted({pattern(n) for n in names} - seen)
            seen |= set(patterns)
            groups.append((label, patterns))
            print(f"{label}: {len(names)} functions, {len(patterns)} new patterns", file=sys.stderr)
    with open(OUT, "w") as f:
        f.write("/* Generated by link/hot-text.py: do not edit, regenerate. The functions `accord`\n"
                "   executes at start and in diff, validate and serve, gathered at the front of the\n"
                "   code so a command faults in few pages of it; build.rs passes this to the linker\n"
                "   for release builds on Linux. */\n")
        f.write("SECTIONS\n{\n  .text.hot :\n  {\n")
        for label, patterns in groups:
            f.write(f"    /* {label} */\n")
            for p in patterns:
                f.write(f"    *(.text.{p} .text.unlikely.{p})\n")
        f.write("  }\n}\nINSERT BEFORE .text;\n")
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
