#!/usr/bin/env python3
"""Run the local-model task suite (tasks.toml) and judge each run structurally.

    tests/local_model/run.py [--model GGUF]... [--jingu BIN] [--only ID] [--json OUT]

For every model and task: a fresh workspace with the task's files, `jingu ask INSTRUCTION --path
FILE --yes` against the in-process local model (JINGU_LOCAL_MODEL=GGUF), then the verdict:
  exit      the run exited 0
  parses    the file still parses (python ast, node --check, rustc, gcc -fsyntax-only)
  targeted  only the target symbol changed: the text before and after it is byte-identical
  expect    the task's regular expression matches the new file
  tests     the task's test command passes (when it has one)
A task passes when all hold. Prints a table per model and the scores; exits 1 if any model
scored below --min (default 0, i.e. report only).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def parses(lang_file: Path, ws: Path) -> bool:
    suffix = lang_file.suffix
    if suffix == ".py":
        cmd = [sys.executable, "-c", "import ast,sys; ast.parse(open(sys.argv[1]).read())", lang_file.name]
    elif suffix == ".js":
        cmd = ["node", "--check", lang_file.name]
    elif suffix == ".rs":
        cmd = ["rustc", "--edition", "2021", "--crate-type", "lib", "--emit=metadata", "-o", "/dev/null", lang_file.name]
    elif suffix == ".c":
        cmd = ["gcc", "-fsyntax-only", lang_file.name]
    else:
        raise SystemExit(f"no parser for {lang_file}")
    return subprocess.run(cmd, cwd=ws, capture_output=True).returncode == 0


def symbol_lines(jingu: str, ws: Path, file: str, env: dict) -> dict:
    out = subprocess.run([jingu, "symbols", file, "--json"], cwd=ws, capture_output=True, env=env)
    if out.returncode != 0:
        return {}
    data = json.loads(out.stdout)
    syms = data.get("symbols", data) if isinstance(data, dict) else data
    return {s["name_path"]: (s["start_line"], s["end_line"]) for s in syms}


def targeted(old: str, new: str, span: tuple) -> bool:
    """Everything before the symbol's first line and after its last is unchanged."""
    old_lines = old.splitlines(keepends=True)
    start, end = span
    before = "".join(old_lines[: start - 1])
    after = "".join(old_lines[end:])
    return new.startswith(before) and new.endswith(after) and len(new) >= len(before) + len(after)


def run_task(task: dict, model: str, jingu: str, timeout: int) -> dict:
    ws = Path(tempfile.mkdtemp(prefix=f"jingu-suite-{task['id']}-"))
    try:
        source = task["source"].lstrip("\n")
        (ws / task["file"]).write_text(source)
        if "test_file" in task:
            (ws / task["test_file"]).write_text(task["test_source"].lstrip("\n"))
        env = dict(os.environ)
        env.update(
            JINGU_LOCAL_MODEL=model,
            JINGU_STATE_DIR=str(ws / ".state"),
            JINGU_CONFIG=str(ws / ".no-config.toml"),
            JINGU_POLICY=str(ws / ".no-policy.toml"),
            JINGU_LOG="jingu=debug",
        )
        spans = symbol_lines(jingu, ws, task["file"], env)
        span = spans.get(task["symbol"])
        if span is None:
            raise SystemExit(f"{task['id']}: no symbol {task['symbol']} in {sorted(spans)}")
        start = time.monotonic()
        try:
            p = subprocess.run(
                [jingu, "ask", task["instruction"], "--path", task["file"], "--yes"],
                cwd=ws, capture_output=True, env=env, timeout=timeout,
            )
            rc, log = p.returncode, p.stderr.decode(errors="replace")
        except subprocess.TimeoutExpired as e:
            rc, log = "timeout", (e.stderr or b"").decode(errors="replace")
        seconds = time.monotonic() - start
        new = (ws / task["file"]).read_text()
        v = {
            "exit": rc == 0,
            "parses": parses(ws / task["file"], ws),
            "targeted": new != source and targeted(source, new, span),
            "expect": re.search(task["expect"], new) is not None,
        }
        if "test" in task:
            v["tests"] = subprocess.run(task["test"], shell=True, cwd=ws, capture_output=True).returncode == 0
        calls = log.count("local model output")
        reused = [int(m) for m in re.findall(r"reused=(\d+)", log)]
        prompts = [int(m) for m in re.findall(r"prompt_tokens=(\d+)", log)]
        return {
            "id": task["id"], "pass": all(v.values()), "checks": v, "rc": rc,
            "calls": calls, "seconds": round(seconds, 1),
            "redecoded": [round(1 - r / p, 3) for r, p in zip(reused, prompts)],
            "diff": "" if new == source else new,
            "tail": log.strip().splitlines()[-3:],
        }
    finally:
        shutil.rmtree(ws, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", required=True, help="GGUF file (repeatable)")
    ap.add_argument("--jingu", default=os.environ.get("JINGU_BIN", "jingu"))
    ap.add_argument("--only", action="append", help="task id (repeatable)")
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--json", help="write all results here")
    ap.add_argument("--min", type=int, default=0, help="fail when a model passes fewer tasks")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each changed file")
    args = ap.parse_args()
    tasks = tomllib.loads((HERE / "tasks.toml").read_text())["task"]
    if args.only:
        tasks = [t for t in tasks if t["id"] in args.only]
    results, worst = {}, None
    for model in args.model:
        name = Path(model).name
        print(f"== {name}")
        rows = []
        for task in tasks:
            r = run_task(task, model, args.jingu, args.timeout)
            rows.append(r)
            failed = [k for k, ok in r["checks"].items() if not ok]
            print(f"  {'PASS' if r['pass'] else 'fail'}  {r['id']:<22} exit={r['rc']} calls={r['calls']} "
                  f"{r['seconds']:>5}s {'' if r['pass'] else 'failed: ' + ','.join(failed)}", flush=True)
            if args.verbose and r["diff"]:
                print("    " + r["diff"].replace("\n", "\n    "))
        score = sum(r["pass"] for r in rows)
        print(f"  score: {score}/{len(rows)}")
        results[name] = {"score": score, "total": len(rows), "tasks": rows}
        worst = score if worst is None else min(worst, score)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0 if worst is not None and worst >= args.min else 1


if __name__ == "__main__":
    sys.exit(main())
