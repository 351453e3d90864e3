#!/usr/bin/env bash
# Every benchmark, quick sizes (JINGU_BENCH_QUICK=1); each prints its ratio against a baseline
# measured in the same run. Unset JINGU_BENCH_QUICK for the full corpora and sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
export JINGU_BENCH_QUICK="${JINGU_BENCH_QUICK-1}"
cargo build --release --locked --bin jingu   # the LSP bench drives the real binary
# The index bench's second baseline: tagging with py-tree-sitter (skipped if this fails).
python3 -m pip install --quiet --disable-pip-version-check \
  tree-sitter==0.26.1 tree-sitter-rust==0.24.2 tree-sitter-python==0.25.0 || {
  echo "bench: py-tree-sitter could not be installed; the index bench would lack that baseline" >&2
  [ -z "${JINGU_STRICT:-}" ] || exit 1
}
for b in index edit context snapshot provider sandbox lsp audit; do
  echo "== bench $b"
  cargo bench --locked -p jingu-benches --bench "$b"
done
