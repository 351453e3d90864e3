#!/usr/bin/env bash
# VS Code end-to-end: the packaged .vsix installed into a real code-server 4.100.3, driven by
# playwright-core + Debian's chromium, against the real `jingu lsp` and the scripted model.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
CODE_SERVER="${CODE_SERVER:?set CODE_SERVER to the code-server binary}"
VSIX="$REPO_ROOT/editors/vscode/dist/jingu.vsix"
[ -f "$VSIX" ] || { echo "missing $VSIX: run npm run package in editors/vscode" >&2; exit 1; }
# ask-greet's two turns, the modal's two, a stall (cancel), the chat panel's edit (two turns) and
# stall, then a fill-in-the-middle completion (ghost text).
fixture_start "$EDITORS_TESTS/fixtures/vscode.json"
printf '\n[completion]\nprovider = "scripted"\ndebounce_ms = 0\n' >>"$JINGU_CONFIG"
cs_pid=""
cleanup() {
  rc=$?
  if [ -n "$cs_pid" ]; then kill "$cs_pid" 2>/dev/null || true; wait "$cs_pid" 2>/dev/null || true; fi
  [ "$rc" != 0 ] && [ -f "$FX/code-server.log" ] && tail -20 "$FX/code-server.log" >&2
  fixture_stop
  exit "$rc"
}
trap cleanup EXIT

data="$FX/cs-data"; exts="$FX/cs-extensions"
mkdir -p "$data/User" "$exts"
cat >"$data/User/settings.json" <<JSON
{
  "jingu.serverPath": "$(jingu_bin)",
  "workbench.startupEditor": "none",
  "security.workspace.trust.enabled": false,
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "workbench.tips.enabled": false,
  "editor.minimap.enabled": false,
  "telemetry.telemetryLevel": "off",
  "window.restoreWindows": "none",
  "files.refactoring.autoSave": false
}
JSON
# files.refactoring.autoSave (on by default) saves a buffer a workspace edit changed when it was
# not dirty, at a moment of VS Code's choosing: the "disk untouched" check would race it.
"$CODE_SERVER" --user-data-dir "$data" --extensions-dir "$exts" --install-extension "$VSIX" >"$FX/install.log" 2>&1 \
  || { cat "$FX/install.log" >&2; exit 1; }
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$CODE_SERVER" --auth none --bind-addr "127.0.0.1:$port" --user-data-dir "$data" --extensions-dir "$exts" \
  --disable-telemetry --disable-update-check --disable-workspace-trust "$FX_WS" >"$FX/code-server.log" 2>&1 &
cs_pid=$!
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
CS_URL="http://127.0.0.1:$port" JINGU_VSCODE_DIR="$REPO_ROOT/editors/vscode" CHROMIUM="${CHROMIUM:-/usr/bin/chromium}" \
  JINGU_EDITORS_LOGDIR="${JINGU_EDITORS_LOGDIR:-$FX}" timeout 420 node "$EDITORS_TESTS/vscode/code-server.mjs"
