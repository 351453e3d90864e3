#!/usr/bin/env bash
# Set up a fresh Debian machine for Jingu: system packages, Rust components, the default local
# model (from PyPI, into a virtual environment of its own), then build `jingu` with the in-process
# model and install it to ~/.cargo/bin with its tree-sitter queries and signed skills in
# ~/.cargo/share/jingu.
#   JINGU_SETUP_NO_INSTALL=1  only packages and components (what the test suite needs first)
#   JINGU_MODELS_DIR          where the model and its venv go (default ~/.local/share/jingu/models)
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
# postgresql: the audit sink tests and benchmark start their own server (initdb + pg_ctl).
APT_PACKAGES=(bubblewrap universal-ctags git python3 python3-pip python3-venv cmake libclang-dev clang postgresql)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Rust comes from rustup (Debian's cargo is too old for this code base).
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
if ! command -v cargo >/dev/null 2>&1; then
  cat >&2 <<'EOF'
setup: cargo is not installed. Install Rust with rustup, then run this script again:
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y
    . "$HOME/.cargo/env"
EOF
  exit 1
fi
if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy rust-src >/dev/null 2>&1 ||
    echo "setup: warning: rustup could not add rustfmt/clippy/rust-src (needed by scripts/test.sh)" >&2
else
  echo "setup: warning: rustup not found; rustfmt and clippy (needed by scripts/test.sh) must come from elsewhere" >&2
fi

[ "${JINGU_SETUP_NO_INSTALL:-0}" = 1 ] && exit 0

# The default local model: a small model, good for plumbing and tiny edits, not for real coding
# work. Debian's system Python refuses `pip install` (externally managed), so it gets a venv.
./scripts/install-local-model.sh

cargo build --release --locked -p jingu --features local-llm
prefix="${CARGO_HOME:-$HOME/.cargo}"
install -D -m 755 target/release/jingu "$prefix/bin/jingu"
share="$prefix/share/jingu"
mkdir -p "$share"
rm -rf "$share/queries" "$share/skills"
cp -r queries "$share/queries"
cp -r skills "$share/skills"
echo "setup: installed $prefix/bin/jingu" >&2
