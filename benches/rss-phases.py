#!/usr/bin/env python3
"""Where the memory of one `accord diff` process goes, phase by phase.

Runs `accord diff OLD NEW` under gdb with a breakpoint at the entry of each phase's
function and prints the process's resident memory there (VmRSS, split into anonymous
memory, the heap, and file-backed pages, mostly the binary's own code), once per phase
entry; consecutive stops in the same phase are counted, not repeated.

    python3 benches/rss-phases.py ACCORD_BIN OLD NEW

Run it with MIMALLOC_ALLOW_THP=0 in the environment to see the heap at the 4 KiB
granularity (with transparent huge pages it grows in steps of 2 MiB). Needs gdb and nm
(apt-get install gdb binutils) and a binary with symbols (the release profile keeps
them). Figures are a little higher than without gdb: a breakpoint makes its code page
a private copy.
"""
import os
import subprocess
import sys
import tempfile

PHASES = [
    "main",
    "accord::cli::main",
    "accord::schema::Schema::from_string",
    "accord::schema::canonical::compact_text",
    "accord::schema::Schema::build",
    "accord::compat::check::check",
    "accord::compat::diff::raw",
    "accord::compat::walk::Differ::compare",
    "accord::compat::witness::attach",
]

GDB_SCRIPT = r"""
set pagination off
python
import gdb
last = [None, 0]
def report(name):
    pid = gdb.selected_inferior().pid
    status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
    kib = lambda key: int(status[key].split()[0])
    row = (name, kib("VmRSS"), kib("VmHWM"), kib("RssAnon"), kib("RssFile"))
    if last[0] is not None and last[0][0] == name:
        last[1] += 1
        last[0] = row
        return
    flush()
    last[0], last[1] = row, 1
def flush():
    if last[0] is not None:
        name, rss, hwm, anon, file = last[0]
        times = f" (x{last[1]})" if last[1] > 1 else ""
        print(f"PHASE {name + times:48s} rss {rss/1024:6.1f}  peak {hwm/1024:6.1f}  "
              f"anon {anon/1024:6.1f}  file {file/1024:6.1f} MiB", flush=True)
class Phase(gdb.Breakpoint):
    def stop(self):
        report(self.phase)
        return False
for address, name in PHASES:
    bp = Phase(f"*{address:#x}", internal=True)
    bp.phase = name
class Exit(gdb.Breakpoint):
    def stop(self):
        report("exit")
        flush()
        return False
Exit("_exit", internal=True)
end
run
"""


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    binary, old, new = sys.argv[1:]
    symbols = subprocess.run(["nm", "-C", binary], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in symbols.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in "tT" and parts[2] in PHASES:
            found.setdefault(parts[2], int(parts[0], 16))
    missing = [p for p in PHASES if p not in found]
    if missing:
        print(f"not found in {binary} (inlined or renamed): {', '.join(missing)}", file=sys.stderr)
    # A position-independent binary is loaded at gdb's fixed base (ASLR is off under gdb).
    base = 0x555555554000 if b"DYN" in subprocess.run(["readelf", "-h", binary], capture_output=True).stdout else 0
    phases = sorted(((found[p] + base, p) for p in found), key=lambda a: PHASES.index(a[1]))
    script = GDB_SCRIPT.replace("for address, name in PHASES:", f"for address, name in {phases!r}:")
    with tempfile.NamedTemporaryFile("w", suffix=".gdb", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run(["gdb", "-q", "-batch", "-x", f.name, "--args", binary, "diff", old, new],
                             capture_output=True, text=True).stdout
    finally:
        os.unlink(f.name)
    rows = [line[6:] for line in out.splitlines() if line.startswith("PHASE ")]
    if not rows:
        sys.exit(f"gdb reported nothing:\n{out}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
