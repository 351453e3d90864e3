#!/usr/bin/env bash
# Jingu's whole test suite (what CI runs): set-up, formatting, lints, unit and end-to-end tests,
# a real run against the local model, the editors against the real server, quick benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

# The ACP end-to-end tests drive `jingu acp` with the reference TypeScript SDK.
npm ci --prefix tests/acp --no-audit --no-fund --loglevel=error

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
# Includes the red-team suite (`--test redteam`, also `scripts/redteam.sh`): fails on any escape.
cargo test --workspace --locked
./scripts/check-local-model.sh
if [ -x scripts/test-editors.sh ]; then ./scripts/test-editors.sh; fi
./scripts/bench.sh
