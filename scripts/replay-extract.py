#!/usr/bin/env python3
"""Extract before/after pairs of source files changed by a repository's recent commits, for the
replay benchmark (server/benches/replay.rs).

    replay-extract.py REPO_GIT_DIR OUT_DIR LABEL [--commits 50] [--max-bytes 65536]

Writes OUT_DIR/LABEL/NNNN.before, NNNN.after and NNNN.path (the file's path, for its language).
Only modified files with a supported extension, both versions at most --max-bytes and UTF-8.
The pairs are data for a measurement: keep them out of commits (they are other people's code).
"""
import argparse
import os
import subprocess
import sys

EXTS = {".rs", ".py", ".go", ".java", ".ts", ".tsx", ".js", ".c", ".h", ".cc", ".cpp", ".hpp"}


def git(repo, *args):
    return subprocess.run(["git", "--git-dir", repo, *args], check=True,
                          capture_output=True).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("out")
    ap.add_argument("label")
    ap.add_argument("--commits", type=int, default=50)
    ap.add_argument("--max-bytes", type=int, default=65536)
    a = ap.parse_args()
    out = os.path.join(a.out, a.label)
    os.makedirs(out, exist_ok=True)
    commits = git(a.repo, "rev-list", "--no-merges", f"--max-count={a.commits}", "HEAD").split()
    n = 0
    for c in commits:
        c = c.decode()
        names = git(a.repo, "diff-tree", "--no-commit-id", "-r", "--name-status", f"{c}^", c)
        for line in names.decode(errors="replace").splitlines():
            status, _, path = line.partition("\t")
            if status != "M" or os.path.splitext(path)[1] not in EXTS:
                continue
            try:
                before = git(a.repo, "show", f"{c}^:{path}")
                after = git(a.repo, "show", f"{c}:{path}")
                before.decode("utf-8")
                after.decode("utf-8")
            except (subprocess.CalledProcessError, UnicodeDecodeError):
                continue
            if max(len(before), len(after)) > a.max_bytes or before == after:
                continue
            base = os.path.join(out, f"{n:04d}")
            with open(base + ".before", "wb") as f:
                f.write(before)
            with open(base + ".after", "wb") as f:
                f.write(after)
            with open(base + ".path", "w") as f:
                f.write(f"{c[:12]} {path}\n")
            n += 1
    print(f"{a.label}: {n} file changes from {len(commits)} commits", file=sys.stderr)


if __name__ == "__main__":
    main()
