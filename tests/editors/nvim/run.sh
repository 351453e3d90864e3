#!/usr/bin/env bash
# Neovim end-to-end: real nvim (headless) + editors/nvim + real `jingu lsp` + scripted model.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
NVIM="${NVIM:?set NVIM to the nvim binary}"
# ask-greet's two turns, then a stalled turn (cancelled) and a fill-in-the-middle completion.
fixture_start "$EDITORS_TESTS/fixtures/session.json"
printf '\n[completion]\nprovider = "scripted"\ndebounce_ms = 0\n' >>"$JINGU_CONFIG"
trap 'rc=$?; fixture_stop; exit $rc' EXIT
cd "$FX_WS"
JINGU_PLUGIN="$REPO_ROOT/editors/nvim" JINGU_BIN="$(jingu_bin)" \
  timeout 240 "$NVIM" --headless --clean -l "$EDITORS_TESTS/nvim/test_jingu.lua" </dev/null
