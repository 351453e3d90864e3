#!/usr/bin/env bash
# A real run against the default local model (no key, no network): the installed `jingu` loads the
# GGUF in process, answers a health check, and drives one agent run on a copy of examples/demo.
# The model is a tiny *base* model: this checks the plumbing (load, grammar-constrained tool calls,
# snapshots, audit), not the quality of its work.
set -uo pipefail
cd "$(dirname "$0")/.."
JINGU="${JINGU_BIN:-${CARGO_HOME:-$HOME/.cargo}/bin/jingu}"
pass=0 fail=0
check() { if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "local-model: FAILED: $*" >&2; fi; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r examples/demo "$tmp/ws"
: >"$tmp/no-user-config.toml"
export JINGU_STATE_DIR="$tmp/state" JINGU_CONFIG="$tmp/no-user-config.toml"
unset JINGU_POLICY
cd "$tmp/ws"

check "$JINGU" providers check local
timeout 600 "$JINGU" ask "Add a one-line docstring to the function restock." --path inventory.py --yes --max-steps 4 \
  >"$tmp/run_id" 2>"$tmp/ask.log"
rc=$?
# 0: the model answered; 1: it used up its steps. Anything else (a crash, a timeout) fails.
check test "$rc" -le 1
run_id=$(tail -n 1 "$tmp/run_id")
check grep -q "step" "$tmp/ask.log"
check "$JINGU" audit verify
check python3 -c "import ast,sys; ast.parse(open('inventory.py').read())"
if [ -n "$run_id" ] && "$JINGU" snapshot list --run "$run_id" --json | grep -q '"id"'; then
  check "$JINGU" rollback --run "$run_id"
  check cmp -s inventory.py "$OLDPWD/examples/demo/inventory.py"
fi
tail -n 5 "$tmp/ask.log" >&2
echo "local-model: $pass passed, $fail failed"
[ "$fail" = 0 ]
