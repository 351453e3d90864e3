#!/usr/bin/env bash
# The red-team suite as one command: real attacks on path confinement, the sandbox, policy layers,
# redaction (checked at the scripted provider endpoint), prompt injection and protocol input.
# Prints `N attempts, M blocked, K escaped` and fails on any escape. Needs bubblewrap or Landlock
# (ABI >= 4), python3 (the model server) and `unshare` (util-linux) for the /etc/jingu namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --locked -p jingu --test redteam
