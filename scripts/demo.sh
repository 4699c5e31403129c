#!/usr/bin/env bash
# Builds qtk in Release and runs the main job on the built-in demo model: make a synthetic
# Llama checkpoint, quantize it to Q4_K_M and Q8_0 in one pass, and look at the result.
#   scripts/demo.sh [ARCH]   another model family: llama3, qwen2, qwen3, qwen3moe (qtk synth --arch)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)"
rm -rf demo && mkdir -p demo
./build/qtk synth demo/model --arch "${1:-llama}" --preset small
./build/qtk quantize demo/model --type Q4_K_M,Q8_0 -o 'demo/model-{type}.gguf'
./build/qtk inspect demo/model-Q4_K_M.gguf | head -n 40
