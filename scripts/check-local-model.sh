#!/usr/bin/env bash
# A real run against the default local model (no key, no network): `jingu` loads the GGUF in
# process, answers a health check, and runs the README's first command exactly as written on a
# copy of examples/demo. What it checks is that the run tells the truth about what happened:
# - exit 0: the docstring landed in `restock` (and nowhere else), in 1-3 model calls, the file
#   parses, and `jingu rollback --run` restores the original;
# - otherwise: the file is untouched, the run says no file changed and offers no rollback (exit 1
#   when edits were refused or rejected, 0 when the model only answered);
# - anything else (a crash, a timeout) fails; the audit chain must verify either way.
# The tiny default model often fails the task itself (see issue 17); a dishonest report never passes.
#   JINGU_BIN   the binary to check (default: the installed one)
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
JINGU="$(realpath -m "${JINGU_BIN:-${CARGO_HOME:-$HOME/.cargo}/bin/jingu}")" # absolute: later steps run elsewhere
pass=0 fail=0
check() { if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "local-model: FAILED: $*" >&2; fi; }

tmp=$(mktemp -d)
trap '[ -n "${JINGU_KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/examples"
ln -s "$JINGU" "$tmp/bin/jingu"
cp -r examples/demo "$tmp/examples/demo"
: >"$tmp/no-user-config.toml"
export JINGU_STATE_DIR="$tmp/state" JINGU_CONFIG="$tmp/no-user-config.toml"
unset JINGU_POLICY
export PATH="$tmp/bin:$PATH" JINGU_LOG="${JINGU_LOG:-jingu=debug}"

check jingu providers check local
# The README's first command after setup.sh, word for word, on a copy of the demo.
first=$(grep -m1 -o 'cd examples/demo && jingu ask .*--yes' README.md)
check test -n "$first"
start=$(date +%s%N)
(cd "$tmp" && timeout 900 bash -c "$first") >"$tmp/run_id" 2>"$tmp/ask.log"
rc=$?
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
cd "$tmp/examples/demo"
run_id=$(tail -n 1 "$tmp/run_id")
calls=$(grep -c 'local model output' "$tmp/ask.log")
echo "local-model: exit $rc, $calls model call(s), ${elapsed_ms} ms" >&2
check test "$rc" = 0 -o "$rc" = 1
check test "$calls" -ge 1
check jingu audit verify
if [ "$rc" = 0 ] && ! cmp -s inventory.py "$repo/examples/demo/inventory.py"; then
  echo "local-model: the edit landed" >&2
  check test "$calls" -le 3
  check python3 - "$repo/examples/demo/inventory.py" <<'EOF'
import ast, sys
old = ast.parse(open(sys.argv[1]).read())
new = ast.parse(open("inventory.py").read())
defs = lambda t: {n.name: n for n in ast.walk(t) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
o, n = defs(old), defs(new)
assert set(o) == set(n), f"symbols changed: {sorted(o)} -> {sorted(n)}"
doc = ast.get_docstring(n["restock"])
assert doc and doc.strip(), "restock has no docstring"
for name in o:
    if name != "restock":
        assert ast.dump(o[name]) == ast.dump(n[name]), f"{name} changed"
body = n["restock"].body[1:]
assert ast.dump(ast.Module(body, [])) == ast.dump(ast.Module(o["restock"].body, [])), "restock's code changed"
print(f"local-model: restock docstring: {doc!r}", file=sys.stderr)
EOF
  check test -n "$run_id"
  check jingu rollback --run "$run_id"
  check cmp -s inventory.py "$repo/examples/demo/inventory.py"
else
  echo "local-model: nothing changed; the run must say so and offer no rollback" >&2
  check cmp -s inventory.py "$repo/examples/demo/inventory.py"
  check grep -qi "nothing changed\|no files changed" "$tmp/ask.log"
  check sh -c "! grep -q 'undo with' '$tmp/ask.log'"
fi
grep -E 'local prompt decoded|local model output' "$tmp/ask.log" | cut -c1-300 | sed 's/^/  /' >&2
tail -n 6 "$tmp/ask.log" >&2

# Inline completion on the same model through `jingu lsp` (issue 22), on a fresh copy of the demo
# with its own state: items come back, each leaves the file parseable, an accepted item is audited.
# The deadline is raised from its 2 s default: this checks what the items are, not how fast a
# shared CI machine makes them (the times are printed; the benchmark is where speed is judged).
cp -r "$repo/examples/demo" "$tmp/complete"
printf '[completion]\ndeadline_ms = 15000\n' >"$tmp/complete-config.toml"
(
  cd "$tmp/complete" || exit 1
  export JINGU_STATE_DIR="$tmp/complete-state" JINGU_CONFIG="$tmp/complete-config.toml" JINGU_LOG=jingu=info
  python3 "$repo/tests/local_model/complete.py" "$JINGU" . >"$tmp/complete.out" 2>"$tmp/complete.log"
)
check test $? = 0
grep '^complete:' "$tmp/complete.log" | cut -c1-200 | sed 's/^/  /' >&2
if [ "$(cat "$tmp/complete.out")" = ACCEPTED ]; then
  check sh -c "cd '$tmp/complete' && JINGU_STATE_DIR='$tmp/complete-state' JINGU_CONFIG='$tmp/complete-config.toml' jingu audit log --json | grep -q '\"complete\"'"
fi
check sh -c "cd '$tmp/complete' && JINGU_STATE_DIR='$tmp/complete-state' JINGU_CONFIG='$tmp/complete-config.toml' jingu audit verify"
echo "local-model: $pass passed, $fail failed"
[ "$fail" = 0 ]
