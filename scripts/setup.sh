#!/usr/bin/env bash
# Set up a fresh Debian machine for Jingu: system packages, Rust components, then build and install
# the `jingu` binary (to ~/.cargo/bin) with its tree-sitter queries (to ~/.cargo/share/jingu/queries).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
APT_PACKAGES=(bubblewrap universal-ctags git python3 python3-pip)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
rustup component add rustfmt clippy rust-src >/dev/null

if [ "${JINGU_SETUP_NO_INSTALL:-0}" != 1 ]; then
  cargo install --locked --path server --root "${CARGO_HOME:-$HOME/.cargo}" --quiet
  share="${CARGO_HOME:-$HOME/.cargo}/share/jingu"
  mkdir -p "$share"
  rm -rf "$share/queries" && cp -r queries "$share/queries"
  echo "installed: $(command -v jingu || echo "${CARGO_HOME:-$HOME/.cargo}/bin/jingu")"
fi
