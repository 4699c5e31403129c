#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer + UndefinedBehaviorSanitizer) and runs
# each one on its seeds and the committed regression corpus: by default 8 s per target for the
# eight targets, under a minute of fuzzing in all. A crash, leak, timeout or oversized
# allocation fails the script and leaves the input in build-fuzz/findings/.
#
#   scripts/fuzz-smoke.sh            the CI smoke run
#   scripts/fuzz-smoke.sh 600        ten minutes per target (one after the other)
#   scripts/fuzz-smoke.sh 600 config ten minutes for the named targets only
#
# Seeds are generated from ../shared/testdata when it exists (see fuzz/make_seeds.cc); the
# corpus each run discovers is kept in build-fuzz/corpus/ and reused by the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-8}
build=${QTK_FUZZ_BUILD_DIR:-build-fuzz}
targets=(gguf imatrix quantize_rows safetensors safetensors_index config sentencepiece tokenizer)
if [ $# -gt 1 ]; then targets=("${@:2}"); fi

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DQTK_BUILD_FUZZERS=ON -DQTK_SANITIZE=address,undefined -DQTK_WERROR=ON \
  -DQTK_BUILD_TESTS=OFF -DQTK_BUILD_BENCHMARKS=OFF "${launcher[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)"

testdata=../shared/testdata
if [ ! -d "$testdata" ]; then
  echo "fuzz-smoke: $testdata is absent; seeding with the handcrafted files only" >&2
  testdata=-
fi
rm -rf "$build/seeds"
"$build/fuzz/qtk_fuzz_seeds" "$testdata" "$build/seeds"

mkdir -p "$build/findings"
for target in "${targets[@]}"; do
  corpus=$build/corpus/$target
  mkdir -p "$corpus"
  echo "fuzz-smoke: fuzz_$target for ${seconds}s" >&2
  # -malloc_limit_mb is a backstop: fuzz/fuzz_support.h already aborts on any allocation
  # larger than 16 times the input plus 256 KiB.
  "$build/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=64 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$build/findings/$target-" \
    "$corpus" "$build/seeds/$target" "tests/fuzz_corpus/$target" 2>"$build/fuzz_$target.log" ||
    { tail -n 40 "$build/fuzz_$target.log" >&2; exit 1; }
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' \
    "$build/fuzz_$target.log" | sed "s/^/fuzz_$target /" >&2
done
