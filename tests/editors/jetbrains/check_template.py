#!/usr/bin/env python3
"""Checks the LSP4IJ template in editors/jetbrains/jingu against the real `jingu` binary: every JSON
file parses, the command is `jingu lsp`, every language with a query in queries/ is mapped, and for
every file pattern `jingu symbols` extracts a symbol from a probe file of that extension.
    check_template.py JINGU_BIN"""
import json
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "editors/jetbrains/jingu"
PROBES = {  # languageId → a one-function source
    "rust": "fn probe() {}\n", "python": "def probe():\n    pass\n",
    "javascript": "function probe() {}\n", "javascriptreact": "function probe() { return <a/>; }\n",
    "typescript": "function probe(): void {}\n", "typescriptreact": "function probe(): JSX.Element { return <a/>; }\n",
    "go": "package p\n\nfunc probe() {}\n", "java": "class P { void probe() {} }\n",
    "c": "void probe(void) {}\n", "cpp": "void probe() {}\n",
}
passed = failed = 0


def case(name, fn):
    global passed, failed
    try:
        fn()
        passed += 1
        print(f"ok - jetbrains: {name}")
    except AssertionError as e:
        failed += 1
        print(f"not ok - jetbrains: {name}\n  {e}")


def parses():
    for f in sorted(TEMPLATE.glob("*.json")):
        json.loads(f.read_text())


template = json.loads((TEMPLATE / "template.json").read_text())


def command():
    assert template["id"] == "jingu", template["id"]
    assert template["programArgs"]["default"].split()[-1] == "lsp", template["programArgs"]


def covers_languages():
    ids = {m["languageId"] for m in template["fileTypeMappings"]}
    wanted = {d.name for d in (ROOT / "queries").iterdir() if d.is_dir()}
    assert wanted <= ids, f"languages with queries but no mapping: {sorted(wanted - ids)}"


def patterns_parse():
    with tempfile.TemporaryDirectory() as d:
        for m in template["fileTypeMappings"]:
            for pat in m["fileType"]["patterns"]:
                probe = pathlib.Path(d) / ("probe" + pat.removeprefix("*"))
                probe.write_text(PROBES[m["languageId"]])
                out = subprocess.run([sys.argv[1], "symbols", str(probe), "--json"], capture_output=True, text=True)
                assert out.returncode == 0, f"{pat}: {out.stderr.strip()}"
                names = [s["name"] for s in json.loads(out.stdout)]
                assert "probe" in names, f"{pat}: no symbol `probe` in {names}"


case("every template file is valid JSON", parses)
case("the server command is `jingu lsp`", command)
case("every language with queries/ is mapped", covers_languages)
case("jingu extracts symbols from every mapped file pattern", patterns_parse)
print(f"jetbrains: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
