#!/usr/bin/env bash
# Emacs end-to-end: emacs --batch + Debian's elpa-eglot + editors/emacs/jingu.el + real `jingu lsp`.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
fixture_start "$EDITORS_TESTS/fixtures/session.json" # ask-greet, then a stalled turn (cancelled)
trap 'rc=$?; fixture_stop; exit $rc' EXIT
cd "$FX_WS"
JINGU_PLUGIN="$REPO_ROOT/editors/emacs" JINGU_BIN="$(jingu_bin)" HOME="$FX/home" \
  timeout 240 "${EMACS:-emacs}" --batch -q --no-site-file -l "$EDITORS_TESTS/emacs/test-jingu.el" </dev/null
