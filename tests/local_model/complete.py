#!/usr/bin/env python3
"""Inline completion on the embedded model through the real `jingu lsp` (no key, no network).

Drives the server over stdio like an editor: opens a copy of the demo's inventory.py with a new,
empty function body at several places, asks `textDocument/inlineCompletion` at each (typing a few
characters forward in between), and checks what a user would: items come back, every item leaves
the file parseable, and accepting one (`jingu.acceptCompletion`) writes exactly one audit record.
Prints time to the answer per request (cold first, then warm). Exit 1 on any failed check.

usage: complete.py JINGU_BIN WORKSPACE  (JINGU_STATE_DIR / JINGU_CONFIG come from the caller)
"""

import ast
import json
import subprocess
import sys
import time
from pathlib import Path

jingu, ws = sys.argv[1], Path(sys.argv[2]).resolve()
proc = subprocess.Popen(
    [jingu, "lsp"], cwd=ws, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sys.stderr
)
next_id = 0


def send(msg):
    body = json.dumps(msg).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proc.stdin.flush()


def recv():
    header = b""
    while not header.endswith(b"\r\n\r\n"):
        byte = proc.stdout.read(1)
        if not byte:
            raise SystemExit("complete: the server closed its output")
        header += byte
    length = next(
        int(line.split(b":")[1]) for line in header.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    return json.loads(proc.stdout.read(length))


def request(method, params):
    global next_id
    next_id += 1
    send({"jsonrpc": "2.0", "id": next_id, "method": method, "params": params})
    while True:
        msg = recv()
        if "method" in msg and "id" in msg:  # a server request (progress, configuration)
            send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
        elif msg.get("id") == next_id:
            if "error" in msg:
                raise SystemExit(f"complete: {method} failed: {msg['error']}")
            return msg["result"]


def notify(method, params):
    send({"jsonrpc": "2.0", "method": method, "params": params})


failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print(f"complete: FAILED: {what}", file=sys.stderr)


root = ws.as_uri()
caps = request("initialize", {"processId": None, "rootUri": root, "capabilities": {}})["capabilities"]
check(caps.get("inlineCompletionProvider") is True, "inlineCompletionProvider advertised")
notify("initialized", {})

original = (ws / "inventory.py").read_text()
uri = (ws / "inventory.py").as_uri()
# New empty bodies, as a user writing a function would leave them, each typed into step by step.
sites = [
    ("    def total(self):", "    def count(self, sku):\n        ", ["", "return", "return self"]),
    ("def restock(", "def cheapest(prices):\n    ", ["", "best", "best = None"]),
    ("def restock(", "def describe(inventory):\n    ", ["", "lines = []"]),
]
version = 1
notify(
    "textDocument/didOpen",
    {"textDocument": {"uri": uri, "languageId": "python", "version": version, "text": original}},
)
timings, items_seen, accepted = [], 0, None
for anchor, stub, typed in sites:
    for t in typed:
        at = original.index(anchor)
        text = original[:at] + stub + t + "\n\n" + original[at:]
        cursor = at + len(stub) + len(t)
        line = text.count("\n", 0, cursor)
        character = cursor - (text.rfind("\n", 0, cursor) + 1)
        version += 1
        notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
        )
        started = time.monotonic()
        result = request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": uri},
                "position": {"line": line, "character": character},
                "context": {"triggerKind": 2},
            },
        )
        timings.append((time.monotonic() - started) * 1000)
        for item in (result or {}).get("items", []):
            items_seen += 1
            inserted = item["insertText"]
            r = item["range"]
            check(
                r["start"] == {"line": line, "character": character} and r["start"] == r["end"],
                f"item inserted at the cursor: {r}",
            )
            new = text[:cursor] + inserted + text[cursor:]
            try:
                ast.parse(new)
            except SyntaxError as e:
                check(False, f"item {inserted!r} leaves the file parseable ({e})")
            if accepted is None and item.get("command"):
                accepted = item["command"]
            print(f"complete: {t!r} -> {inserted[:70]!r}", file=sys.stderr)

check(items_seen >= 1, f"at least one item over {len(timings)} requests")
if accepted:
    request("workspace/executeCommand", {"command": accepted["command"], "arguments": accepted.get("arguments", [])})
request("shutdown", None)
notify("exit", None)
proc.wait(timeout=30)
warm = sorted(timings[1:])
print(
    f"complete: {len(timings)} requests, {items_seen} items; first (cold) {timings[0]:.0f} ms, "
    f"warm p50 {warm[len(warm) // 2]:.0f} ms, max {warm[-1]:.0f} ms",
    file=sys.stderr,
)
print("ACCEPTED" if accepted else "NONE")
sys.exit(1 if failures else 0)
