#!/usr/bin/env python3
"""The baseline of the index benchmark: tagging files with py-tree-sitter, the way a Python tool
does it: read and parse each Rust and Python file, run the grammar's own tags query, collect
(name, kind, line) per definition. `py_tags.py ROOT LIST` tags the files listed in LIST (one path
relative to ROOT a line: the files Jingu indexed, so both do the same work); `py_tags.py ROOT`
walks ROOT instead. Prints `files tags seconds` (the tagging, not the interpreter's start-up).
Exits 3 when py-tree-sitter or a grammar is not installed."""
import os
import sys
import time

try:
    import tree_sitter as ts
    import tree_sitter_python
    import tree_sitter_rust
except ImportError as e:
    print(f"py-tree-sitter missing: {e}", file=sys.stderr)
    sys.exit(3)

SKIP_DIRS = {".git", ".jingu", "target", "node_modules"}


def setup():
    out = {}
    for ext, mod in ((".rs", tree_sitter_rust), (".py", tree_sitter_python)):
        lang = ts.Language(mod.language())
        out[ext] = (ts.Parser(lang), ts.Query(lang, mod.TAGS_QUERY))
    return out


def walk(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in filenames:
            yield os.path.join(dirpath, name)


def tag(root, listed):
    tools = setup()
    files = tags = 0
    paths = (os.path.join(root, rel) for rel in listed) if listed is not None else walk(root)
    for path in paths:
        tool = tools.get(os.path.splitext(path)[1])
        if tool is None:
            continue
        parser, query = tool
        try:
            with open(path, "rb") as f:
                source = f.read()
        except OSError:
            continue
        tree = parser.parse(source)
        found = []
        for _, captures in ts.QueryCursor(query).matches(tree.root_node):
            names = captures.get("name", [])
            for cap, nodes in captures.items():
                if cap.startswith("definition.") and names:
                    node = names[0]
                    found.append((node.text.decode("utf-8", "replace"), cap[11:],
                                  nodes[0].start_point[0] + 1))
        files += 1
        tags += len(found)
    return files, tags


def main():
    listed = None
    if len(sys.argv) > 2:
        with open(sys.argv[2], encoding="utf-8") as f:
            listed = [line for line in f.read().split("\n") if line]
    start = time.perf_counter()
    files, tags = tag(sys.argv[1], listed)
    print(files, tags, f"{time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    main()
