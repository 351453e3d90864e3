# Shared fixture for the editor end-to-end tests (sourced): a copy of fixtures/ws in a temp dir,
# Jingu's state and config beside it, and the scripted model server (tests/support/model_server.py,
# a real HTTP server on 127.0.0.1) replaying a conversation.
#   fixture_start SCRIPT.json   → exports FX, FX_WS, FX_LOG, JINGU_STATE_DIR, JINGU_CONFIG
#   fixture_stop                → stops the model server, removes FX
EDITORS_TESTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$EDITORS_TESTS/../.." && pwd)"

fixture_start() {
  local script="$1"
  FX="$(mktemp -d "${TMPDIR:-/tmp}/jingu-editors.XXXXXX")"
  FX="$(cd "$FX" && pwd -P)"
  FX_WS="$FX/ws"
  FX_LOG="$FX/requests.jsonl"
  cp -r "$EDITORS_TESTS/fixtures/ws" "$FX_WS"
  # A git checkout, like a real project: editors (eglot's project.el) find the root through it.
  git -C "$FX_WS" init -q && git -C "$FX_WS" add -A \
    && git -C "$FX_WS" -c user.name=fixture -c user.email=fixture@invalid commit -qm fixture
  python3 "$REPO_ROOT/tests/support/model_server.py" "$script" --port-file "$FX/port" --log "$FX_LOG" \
    >/dev/null 2>&1 &
  FX_SERVER_PID=$!
  for _ in $(seq 1 200); do [ -s "$FX/port" ] && break; sleep 0.05; done
  [ -s "$FX/port" ] || { echo "model server did not start" >&2; return 1; }
  cat >"$FX/config.toml" <<TOML
[providers.scripted]
kind = "openai-compatible"
base_url = "http://127.0.0.1:$(cat "$FX/port")/v1"
model = "scripted-model"
data_use = "inference-only"
max_attempts = 1
read_timeout_ms = 20000

[routing]
default = "scripted"
TOML
  export FX FX_WS FX_LOG
  export JINGU_STATE_DIR="$FX/state" JINGU_CONFIG="$FX/config.toml"
  unset JINGU_POLICY
  export JINGU_LOG=warn
  # Editors get their own XDG dirs so nothing from the user's setup leaks in (or out).
  export XDG_CONFIG_HOME="$FX/xdg/config" XDG_DATA_HOME="$FX/xdg/data" XDG_STATE_HOME="$FX/xdg/state" \
    XDG_CACHE_HOME="$FX/xdg/cache" XDG_RUNTIME_DIR="$FX/xdg/run"
  mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_STATE_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
  chmod 700 "$XDG_RUNTIME_DIR"
}

fixture_stop() {
  if [ -n "${FX_SERVER_PID:-}" ]; then
    kill "$FX_SERVER_PID" 2>/dev/null || true
    wait "$FX_SERVER_PID" 2>/dev/null || true
  fi
  FX_SERVER_PID=""
  [ -n "${FX:-}" ] && [ -z "${JINGU_KEEP_FIXTURE:-}" ] && rm -rf "$FX"
  return 0
}

# The jingu binary under test: $JINGU_BIN, else the workspace's debug build.
jingu_bin() {
  echo "${JINGU_BIN:-$REPO_ROOT/target/debug/jingu}"
}
