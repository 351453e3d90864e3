#!/usr/bin/env bash
# Emacs end-to-end: emacs --batch + Debian's elpa-eglot + editors/emacs/jingu.el + real `jingu lsp`.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
# ask-greet, then a stalled turn (cancelled) and a fill-in-the-middle completion (ghost text).
fixture_start "$EDITORS_TESTS/fixtures/session.json"
printf '\n[completion]\nprovider = "scripted"\ndebounce_ms = 0\n' >>"$JINGU_CONFIG"
trap 'rc=$?; fixture_stop; exit $rc' EXIT
cd "$FX_WS"
JINGU_PLUGIN="$REPO_ROOT/editors/emacs" JINGU_BIN="$(jingu_bin)" HOME="$FX/home" \
  timeout 240 "${EMACS:-emacs}" --batch -q --no-site-file -l "$EDITORS_TESTS/emacs/test-jingu.el" </dev/null
