#!/usr/bin/env bash
# Editor integrations, end to end against the real `jingu lsp`: installs what it needs (apt, pip,
# npm; idempotent), builds jingu if needed, then runs
#   vscode-unit     offline unit tests of the extension's logic (node:test)
#   vscode-package  typecheck, esbuild bundle, vsce package → editors/vscode/dist/jingu.vsix
#   nvim            headless Neovim + editors/nvim
#   emacs           emacs --batch + eglot + editors/emacs/jingu.el
#   jetbrains       the LSP4IJ template's JSON and file mappings, checked with `jingu symbols`
#   vscode          the .vsix in code-server 4.100.3, driven by playwright-core + chromium
# and prints `editors: N passed, M failed` (N, M count test cases). Exit status 1 on any failure.
# Env: JINGU_BIN (default target/debug/jingu, built if missing), JINGU_EDITORS_ONLY="nvim emacs".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
start=$(date +%s)

# shellcheck source=scripts/editors-install.sh
. scripts/editors-install.sh || { echo "editors: 0 passed, 1 failed (install)"; exit 1; }
set +e
export JINGU_BIN="${JINGU_BIN:-$ROOT/target/debug/jingu}"
if [ ! -x "$JINGU_BIN" ]; then
  cargo build --locked --quiet --bin jingu || { echo "editors: 0 passed, 1 failed (cargo build)"; exit 1; }
fi
export NVIM EMACS CODE_SERVER CHROMIUM

passed=0
failed=0
only="${JINGU_EDITORS_ONLY:-vscode-unit vscode-package nvim emacs jetbrains vscode}"
logdir="$(mktemp -d "${TMPDIR:-/tmp}/jingu-editors-logs.XXXXXX")"
# Tests save what outlives their fixture here (the VS Code test's screenshots).
export JINGU_EDITORS_LOGDIR="$logdir"

# run NAME CMD...: the command prints `ok - ` / `not ok - ` lines (TAP-like) or is one case.
run() {
  local name="$1"; shift
  case " $only " in *" $name "*) ;; *) return 0 ;; esac
  local t0=$(date +%s) log="$logdir/$name.log"
  timeout 450 "$@" >"$log" 2>&1
  local rc=$?
  local ok bad
  ok=$(grep -c '^ok \(- \)\?' "$log")
  bad=$(grep -c '^not ok' "$log")
  if [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ]; then
    # A single-step command: its exit status is the result.
    if [ "$rc" -eq 0 ]; then ok=1; else bad=1; fi
  elif [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    bad=1 # crashed or timed out after its last reported case
  fi
  passed=$((passed + ok)); failed=$((failed + bad))
  printf '%-15s %3d passed %3d failed  %4ss  (exit %d)\n' "$name" "$ok" "$bad" "$(( $(date +%s) - t0 ))" "$rc"
  if [ "$bad" -ne 0 ]; then grep -A12 '^not ok' "$log" | head -60; [ "$rc" -eq 124 ] && echo "  (timed out)"; fi
}

run vscode-unit    bash -c 'cd editors/vscode && npm test --silent'
run vscode-package bash -c 'cd editors/vscode && npm run --silent package'
run nvim           tests/editors/nvim/run.sh
run emacs          tests/editors/emacs/run.sh
run jetbrains      python3 tests/editors/jetbrains/check_template.py "$JINGU_BIN"
run vscode         tests/editors/vscode/run.sh

echo "logs in $logdir; total $(( $(date +%s) - start ))s"
echo "editors: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
