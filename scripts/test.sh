#!/usr/bin/env bash
# Jingu's whole test suite (what CI runs): set-up, formatting, lints, unit and end-to-end tests,
# a real run against the local model, the editors against the real server, quick benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

# The ACP end-to-end tests drive `jingu acp` with the reference TypeScript SDK; the MCP tests
# talk to real MCP servers from npm (server-filesystem, server-everything).
# acpx's @openclaw/fs-safe lists per-platform optional packages the registry here does not serve
# (darwin ones are 404), so the lock cannot name them and `npm ci` refuses it as out of sync;
# `npm install --no-save` installs exactly the locked versions and skips the missing optionals.
npm install --prefix tests/acp --no-save --no-audit --no-fund --loglevel=error
npm ci --prefix tests/mcp --no-audit --no-fund --loglevel=error
export JINGU_TEST_MCP_FILESYSTEM="$PWD/tests/mcp/node_modules/.bin/mcp-server-filesystem"
export JINGU_TEST_MCP_EVERYTHING="$PWD/tests/mcp/node_modules/.bin/mcp-server-everything"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# Includes the red-team suite (`--test redteam`, also `scripts/redteam.sh`): fails on any escape.
cargo test --workspace --locked
# The in-process model's own unit tests need the llama.cpp build (`local-llm`), which setup.sh
# made in release: only this crate's test binary is compiled here.
cargo test --release --locked -p jingu-providers --features local-llm --lib
./scripts/check-local-model.sh
./scripts/test-editors.sh
./scripts/bench.sh
