#!/usr/bin/env bash
# Builds qtk in Release and runs the main job on the built-in demo model.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)"
rm -rf demo && mkdir -p demo
./build/qtk synth demo/model --preset small
./build/qtk inspect demo/model
