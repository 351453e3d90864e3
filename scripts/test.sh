#!/usr/bin/env bash
# Jingu's whole test suite: formatting, lints, unit + end-to-end tests, quick benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
JINGU_SETUP_NO_INSTALL=1 ./scripts/setup.sh

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --workspace --locked
