#!/usr/bin/env bash
# Every benchmark, quick sizes (JINGU_BENCH_QUICK=1); each prints its ratio against a baseline
# measured in the same run. Unset JINGU_BENCH_QUICK for the full corpora and sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
export JINGU_BENCH_QUICK="${JINGU_BENCH_QUICK-1}"
cargo build --release --locked --bin jingu   # the LSP bench drives the real binary
# Fixed corpora (server/benches/corpus.rs): Rust std from rust-src, pinned by the toolchain, and
# CPython 3.11's stdlib, tkinter and test suite from Debian 12's packages (never site-packages).
# The current Debian versions are downloaded (old ones leave the mirror) and recorded in VERSIONS,
# which the benches print.
rustup component add rust-src
cpython=target/bench-corpora/cpython
debs="libpython3.11-minimal libpython3.11-stdlib libpython3.11-testsuite python3-tk"
if [ ! -s "$cpython/VERSIONS" ]; then
  rm -rf "$cpython"
  mkdir -p "$cpython/debs"
  # shellcheck disable=SC2086 # one word per package
  (cd "$cpython/debs" && { apt-get download $debs || { apt-get update && apt-get download $debs; }; })
  for deb in "$cpython"/debs/*.deb; do
    dpkg-deb -x "$deb" "$cpython"
    dpkg-deb -f "$deb" Package Version | paste -sd= | tr -d ' ' | sed 's/Package://; s/=Version:/=/'
  done | sort | paste -sd' ' >"$cpython/VERSIONS.tmp"
  rm -rf "$cpython/debs"
  mv "$cpython/VERSIONS.tmp" "$cpython/VERSIONS"
fi
echo "bench: CPython corpus from $(cat "$cpython/VERSIONS")"
# The index bench's second baseline: tagging with py-tree-sitter (skipped if this fails).
python3 -m pip install --quiet --disable-pip-version-check \
  tree-sitter==0.26.1 tree-sitter-rust==0.24.2 tree-sitter-python==0.25.0 || {
  echo "bench: py-tree-sitter could not be installed; the index bench would lack that baseline" >&2
  [ -z "${JINGU_STRICT:-}" ] || exit 1
}
for b in index workspace_symbol edit context snapshot provider sandbox lsp audit; do
  echo "== bench $b"
  cargo bench --locked -p jingu-benches --bench "$b"
done
# The in-process model against llama.cpp's own decode loop (the default model from setup.sh).
echo "== bench local"
cargo bench --locked -p jingu-benches --features local-llm --bench local
