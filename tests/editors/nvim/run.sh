#!/usr/bin/env bash
# Neovim end-to-end: real nvim (headless) + editors/nvim + real `jingu lsp` + scripted model.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
NVIM="${NVIM:?set NVIM to the nvim binary}"
fixture_start "$EDITORS_TESTS/fixtures/ask-greet.json"
trap 'rc=$?; fixture_stop; exit $rc' EXIT
cd "$FX_WS"
JINGU_PLUGIN="$REPO_ROOT/editors/nvim" JINGU_BIN="$(jingu_bin)" \
  timeout 240 "$NVIM" --headless --clean -l "$EDITORS_TESTS/nvim/test_jingu.lua" </dev/null
