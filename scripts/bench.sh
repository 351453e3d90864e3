#!/usr/bin/env bash
# Every benchmark, quick sizes (JINGU_BENCH_QUICK=1); each prints its ratio against a baseline
# measured in the same run. Unset JINGU_BENCH_QUICK for the full corpora and sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
export JINGU_BENCH_QUICK="${JINGU_BENCH_QUICK-1}"
cargo build --release --locked --bin jingu   # the LSP bench drives the real binary
for b in index edit context snapshot provider sandbox lsp; do
  echo "== bench $b"
  cargo bench --locked --bench "$b"
done
