#!/usr/bin/env bash
# Every benchmark, quick sizes (JINGU_BENCH_QUICK=1); each prints its ratio against a baseline
# measured in the same run, interleaved, with min/median/max. JINGU_BENCH_QUICK= (empty) or 0 for
# the full corpora and sizes.
#
# The LSP bench drives target/release/jingu built with the features scripts/setup.sh builds with
# (local-llm), so that binary stays the one setup.sh built (a build without them would replace
# it); the installed copy in ~/.cargo/bin is never touched. The other benches need no model.
set -euo pipefail
cd "$(dirname "$0")/.."
export JINGU_BENCH_QUICK="${JINGU_BENCH_QUICK-1}"

# Fixed corpora (server/benches/corpus.rs): Rust std from rust-src, pinned by the toolchain, and
# CPython 3.11's stdlib, tkinter and test suite from these exact Debian 12 packages, each checked
# against its SHA-256 (never site-packages). When Debian replaces a version on its mirror, the
# current one is used with a warning and recorded as unpinned: update the pins and checksums then.
rustup component add rust-src
cpython=target/bench-corpora/cpython
pins=(
  "libpython3.11-minimal=3.11.2-6+deb12u9 69f41cfa3f4ba17284e538f843069d7529c53c207d2ae17a5b02785944870e33"
  "libpython3.11-stdlib=3.11.2-6+deb12u9 10f13e000ee757f5f2d2d3569f9e30546214a0c850acd78695feae373bfa3e53"
  "libpython3.11-testsuite=3.11.2-6+deb12u9 5dd0f85e950b344a51374e0ef68089e808f73c6c594c80e5232936b5c7ea4a28"
  "python3-tk=3.11.2-3 33badffb9316204fda015b1a9d331c03bd322dfbb217930de5dd5ca95b6af7d2"
)
want="$(printf '%s\n' "${pins[@]}" | cut -d' ' -f1 | paste -sd' ')"
if [ "$(cat "$cpython/VERSIONS" 2>/dev/null)" != "$want" ]; then
  rm -rf "$cpython"
  mkdir -p "$cpython/debs"
  for pin in "${pins[@]}"; do
    read -r pkg sum <<<"$pin"
    if (cd "$cpython/debs" && { apt-get download "$pkg" 2>/dev/null ||
      { apt-get update -qq && apt-get download "$pkg"; }; }); then
      deb=$(ls "$cpython"/debs/"${pkg%%=*}"_*.deb)
      echo "$sum  $deb" | sha256sum --check --quiet || {
        echo "bench: $deb does not match its pinned SHA-256" >&2
        exit 1
      }
    else
      # Debian keeps only the current version on its mirror. The benches still run (their ratios
      # are interleaved in one run), but the corpus is no longer the pinned one: say so loudly and
      # record the version used, so nobody compares these figures with runs on the pin.
      (cd "$cpython/debs" && apt-get download "${pkg%%=*}")
      deb=$(ls "$cpython"/debs/"${pkg%%=*}"_*.deb)
      used="$(dpkg-deb -f "$deb" Package)=$(dpkg-deb -f "$deb" Version)"
      echo "bench: WARNING: $pkg is gone from the Debian mirror; using $used (not the pinned corpus: update the pin and SHA-256 in scripts/bench.sh)" >&2
      want="${want/$pkg/$used (unpinned)}"
    fi
    dpkg-deb -x "$deb" "$cpython"
  done
  rm -rf "$cpython/debs"
  echo "$want" >"$cpython/VERSIONS"
fi
echo "bench: CPython corpus from $(cat "$cpython/VERSIONS")"

# Baselines of the index bench: universal-ctags (setup.sh installs it) and py-tree-sitter tagging.
python3 -m pip install --quiet --disable-pip-version-check \
  tree-sitter==0.26.1 tree-sitter-rust==0.24.2 tree-sitter-python==0.25.0

cargo build --release --locked -p jingu --features local-llm # what setup.sh built: a no-op after it
export JINGU_BIN="$PWD/target/release/jingu"
for b in index workspace_symbol edit context snapshot provider sandbox lsp audit; do
  echo "== bench $b"
  cargo bench --locked -p jingu-benches --bench "$b"
done
# The in-process model against llama.cpp's own decode loop (the default model from setup.sh).
echo "== bench local"
cargo bench --locked -p jingu-benches --features local-llm --bench local
# Inline completion on the embedded model at real files' positions, against llama.cpp's own loop.
echo "== bench completion"
cargo bench --locked -p jingu-benches --features local-llm --bench completion
