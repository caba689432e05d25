#!/usr/bin/env python3
"""Writes the pair of schemas `benches/diff-e2e.sh` diffs: a nested object schema of
the kind a big event or a generated model produces, and two later versions of it.

    python3 benches/gen_nested_pair.py OUTDIR [--levels 29] [--width 200]

Each level is an object with WIDTH properties: WIDTH - 1 leaves of assorted types and
constraints, and one (`next`) holding the next level; the deepest level has only
leaves. With the defaults the old schema is about 270 KB. Written to OUTDIR:

- old.json: the registered version;
- new.json: one breaking change deep down (a leaf's type changes from integer to string
  at level 25) and one compatible change (an optional property added at level 10);
- compatible.json: only the compatible change (for a registration that succeeds).

Python standard library only; the output is deterministic.
"""

import argparse
import copy
import json
import os

# Leaf shapes, cycled through by position so every level is alike but varied.
LEAVES = [
    lambda i: {"type": "string", "maxLength": 64 + i % 64},
    lambda i: {"type": "integer", "minimum": 0, "maximum": 10 ** (i % 6 + 1)},
    lambda i: {"type": "number", "multipleOf": 0.01},
    lambda i: {"type": "boolean"},
    lambda i: {"enum": ["a", "b", "c", f"v{i}"]},
    lambda i: {"type": "string", "format": "date-time"},
    lambda i: {"type": "array", "items": {"type": "string"}, "maxItems": 10},
    lambda i: {"type": ["string", "null"], "minLength": 1},
    lambda i: {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
    lambda i: {"type": "object", "properties": {"k": {"type": "string"}}},
]


def level(depth, levels, width):
    props = {}
    for i in range(width - 1):
        props[f"f{i:03d}"] = LEAVES[i % len(LEAVES)](i)
    required = [f"f{i:03d}" for i in range(0, width - 1, 7)]
    if depth + 1 < levels:
        props["next"] = level(depth + 1, levels, width)
        required.append("next")
    return {
        "type": "object",
        "description": f"level {depth}",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


def at(schema, depth):
    for _ in range(depth):
        schema = schema["properties"]["next"]
    return schema


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir")
    parser.add_argument("--levels", type=int, default=29)
    parser.add_argument("--width", type=int, default=200)
    args = parser.parse_args()

    old = level(0, args.levels, args.width)
    old["$schema"] = "http://json-schema.org/draft-07/schema#"
    old["title"] = "nested event"

    compatible = copy.deepcopy(old)
    # Compatible: an optional property added to a closed object (old data never has it).
    at(compatible, min(10, args.levels - 1))["properties"]["added_note"] = {"type": "string"}

    new = copy.deepcopy(compatible)
    # Breaking: f001 (an integer leaf) becomes a string deep down.
    deep = at(new, min(25, args.levels - 1))
    deep["properties"]["f001"] = {"type": "string", "maxLength": 32}

    os.makedirs(args.outdir, exist_ok=True)
    for name, doc in (("old", old), ("new", new), ("compatible", compatible)):
        path = os.path.join(args.outdir, f"{name}.json")
        with open(path, "w") as f:
            json.dump(doc, f, separators=(",", ":"))
        print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
