#!/usr/bin/env python3
"""Regenerates the rule table of docs/compatibility.md from `accord rules --format json`
and the examples in compat_doc_examples.py, checking each example with `accord diff`.

Usage: python3 scripts/gen_compat_doc.py [target/release/accord]
"""
import json, os, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from compat_doc_examples import EXAMPLES  # noqa: E402

accord = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "target", "release", "accord")
rules = json.loads(subprocess.run([accord, "rules", "--format", "json"], capture_output=True, text=True, check=True).stdout)
doc_path = os.path.join(HERE, "..", "docs", "compatibility.md")
doc = open(doc_path).read()
start, end = "<!-- rules:start -->", "<!-- rules:end -->"
problems = []
rows = ["| rule | breaks (strict) | breaks (lenient) | Confluent | meaning | example: old → new |", "| --- | --- | --- | --- | --- | --- |"]
with tempfile.TemporaryDirectory() as tmp:
    for r in rules:
        ex = EXAMPLES.get(r["rule"], "missing")
        if ex == "missing":
            problems.append(f"no example for {r['rule']}")
            ex = None
        example = "see below"
        if ex:
            old, new = ex
            open(os.path.join(tmp, "o.json"), "w").write(old)
            open(os.path.join(tmp, "n.json"), "w").write(new)
            out = subprocess.run([accord, "diff", os.path.join(tmp, "o.json"), os.path.join(tmp, "n.json"), "--format", "json", "--mode", "NONE"], capture_output=True, text=True)
            got = [c["rule"] for c in json.loads(out.stdout)["changes"]] if out.stdout else []
            if r["rule"] not in got:
                problems.append(f"example for {r['rule']} reports {got}")
            example = f"`{old}`<br>`{new}`"
        show = lambda b: "+".join(b) if b else "—"
        esc = lambda t: t.replace("|", "\\|")
        rows.append(f"| `{r['rule']}` | {show(r['breaks_strict'])} | {show(r['breaks_lenient'])} | {r['confluent'] or '—'} | {esc(r['summary'])} | {esc(example)} |")
table = "\n".join(rows)
i, j = doc.index(start) + len(start), doc.index(end)
open(doc_path, "w").write(doc[:i] + "\n" + table + "\n" + doc[j:])
for p in problems:
    print("warning:", p)
print(f"{len(rules)} rules written, {len(problems)} problems")
