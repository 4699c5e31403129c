#!/usr/bin/env bash
# Whole-process benchmark of `qtk quantize` on a 1B-parameter checkpoint (issue 7's targets).
#
#   bench/run.sh                       1B BF16 checkpoint, the default types, 3 runs each
#   bench/run.sh --types Q8_0,Q4_K_M   other types
#   bench/run.sh --preset small        a quick run on the 33M model
#   bench/run.sh --arch qwen3moe       another model family (qtk synth --arch; default llama)
#   bench/run.sh --runs 5 --work DIR   more runs; keep the data in DIR (default: bench-work/)
#
# It makes the checkpoint with `qtk synth` (once; kept in the work directory), warms the page
# cache, then, for each type and thread count, alternates `cp -r` of the input with the qtk run
# so both see the same machine state, and reports medians as a Markdown table on stdout:
# wall time, ratio to cp, GB/s of input, peak RSS (from /usr/bin/time -v) against the bound
# 2 x largest tensor in F32 + 64 MiB, and 1 -> 2 thread speed-up. Then one pass writing three
# types against the three single runs, and `qtk inspect` start-up time.
#
# Needs: a Release build (QTK_BUILD_DIR, default build/; built if missing) and GNU time
# (apt-get install time). Progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

arch=llama
preset=1b
dtype=bf16
types=Q8_0,Q4_0,Q4_K_M,Q6_K,int4-g128,nf4
one_pass_types=Q8_0,Q4_0,Q4_K_M
runs=3
work=bench-work
build=${QTK_BUILD_DIR:-build}
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --preset) preset=$2; shift 2 ;;
    --dtype) dtype=$2; shift 2 ;;
    --types) types=$2; shift 2 ;;
    --one-pass) one_pass_types=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

[ -x /usr/bin/time ] || { echo "bench/run.sh: needs GNU time (apt-get install time)" >&2; exit 2; }
if [ ! -x "$build/qtk" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" --target qtk >&2
fi
qtk=$(realpath "$build/qtk")
log() { echo "bench: $*" >&2; }

mkdir -p "$work"
model=$work/model-$preset-$dtype
[ "$arch" = llama ] || model=$work/model-$arch-$preset-$dtype
if [ ! -f "$model/config.json" ]; then
  log "writing the $arch $preset $dtype checkpoint to $model"
  "$qtk" synth "$model" --arch "$arch" --preset "$preset" --dtype "$dtype" -f >&2
fi
input_bytes=$(du -cb "$model"/*.safetensors | tail -n 1 | cut -f 1)
largest_f32=$("$qtk" inspect --json "$model" |
  awk '/^  "tensors": \[/ { in_tensors = 1 } /^  "types": \[/ { in_tensors = 0 }
       in_tensors && /^      "parameters":/ { gsub(/[^0-9]/, ""); print }' | sort -n | tail -n 1)
largest_f32=$((largest_f32 * 4))
rss_bound_kib=$(((2 * largest_f32 + 64 * 1024 * 1024) / 1024))

warm() { cat "$model"/* >/dev/null; }

# run_timed OUTFILE CMD...: runs CMD under GNU time; prints "seconds peak_rss_kib".
run_timed() {
  local stats=$work/time.txt start end wall rss
  start=$(date +%s%N)
  /usr/bin/time -v -o "$stats" "$@" >/dev/null 2>"$work/stderr.txt" ||
    { cat "$work/stderr.txt" >&2; echo "bench/run.sh: '$*' failed" >&2; exit 1; }
  end=$(date +%s%N)
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
  rss=$(grep 'Maximum resident set size' "$stats" | awk '{print $NF}')
  echo "$wall $rss"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

copy_once() {
  rm -rf "$work/copy"
  run_timed cp -r "$model" "$work/copy" | cut -d' ' -f1
  rm -rf "$work/copy"
}

# measure TYPE THREADS: median wall, ratio to the cp runs interleaved with it, max RSS.
measure() {
  local type=$1 threads=$2 walls="" copies="" rss=0 out result
  out=$work/out.gguf
  for _ in $(seq "$runs"); do
    copies+="$(copy_once)"$'\n'
    rm -f "$out"
    result=$(run_timed "$qtk" quantize -q -f "$model" "$out" "$type" "$threads")
    walls+="${result%% *}"$'\n'
    rss=$(( ${result##* } > rss ? ${result##* } : rss ))
  done
  rm -f "$out"
  local wall cp
  wall=$(printf '%s' "$walls" | median)
  cp=$(printf '%s' "$copies" | median)
  echo "$wall $cp $rss"
}

warm
log "input: $model, $input_bytes bytes; largest tensor $largest_f32 bytes in F32"

echo "### qtk quantize, $preset $dtype checkpoint ($(awk -v b="$input_bytes" 'BEGIN { printf "%.2f GB", b / 1e9 }'))"
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'),"\
     "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; qtk $("$qtk" --version | awk '{print $2}')."\
     "Medians of $runs runs; cp -r of the same input interleaved with them, page cache warm."
echo
echo "| type | threads | wall s | × cp | GB/s in | peak RSS MiB | RSS bound MiB | 1→2 threads |"
echo "|---|---|---|---|---|---|---|---|"
declare -A single_wall
IFS=, read -r -a type_list <<<"$types"
for type in "${type_list[@]}"; do
  log "$type, 1 thread"
  read -r wall1 cp1 rss1 <<<"$(measure "$type" 1)"
  log "$type, 2 threads"
  read -r wall2 cp2 rss2 <<<"$(measure "$type" 2)"
  single_wall[$type]=$wall2
  for t in 1 2; do
    if [ "$t" = 1 ]; then wall=$wall1 cp=$cp1 rss=$rss1 speedup=""; else
      wall=$wall2 cp=$cp2 rss=$rss2
      speedup=$(awk -v a="$wall1" -v b="$wall2" 'BEGIN { printf "%.2f×", a / b }')
    fi
    awk -v type="$type" -v t="$t" -v w="$wall" -v c="$cp" -v b="$input_bytes" -v r="$rss" \
        -v bound="$rss_bound_kib" -v s="$speedup" 'BEGIN {
      printf "| %s | %d | %.2f | %.2f | %.2f | %.0f | %.0f | %s |\n",
             type, t, w, w / c, b / w / 1e9, r / 1024, bound / 1024, s }'
  done
done
echo

# One pass, several outputs, against the single runs of the same types.
IFS=, read -r -a one_pass_list <<<"$one_pass_types"
sum=0
for type in "${one_pass_list[@]}"; do
  if [ -z "${single_wall[$type]:-}" ]; then
    log "$type alone, 2 threads"
    read -r wall _ _ <<<"$(measure "$type" 2)"
    single_wall[$type]=$wall
  fi
  sum=$(awk -v a="$sum" -v b="${single_wall[$type]}" 'BEGIN { print a + b }')
done
log "one pass: $one_pass_types"
walls="" rss=0
for _ in $(seq "$runs"); do
  rm -f "$work"/multi-*.gguf
  result=$(run_timed "$qtk" quantize -q -f "$model" --type "$one_pass_types" \
    -o "$work/multi-{type}.gguf" -j 2)
  walls+="${result%% *}"$'\n'
  rss=$(( ${result##* } > rss ? ${result##* } : rss ))
done
rm -f "$work"/multi-*.gguf
multi=$(printf '%s' "$walls" | median)
awk -v types="$one_pass_types" -v m="$multi" -v s="$sum" -v r="$rss" 'BEGIN {
  printf "One pass writing %s (2 threads): %.2f s, peak RSS %.0f MiB; the single runs: %.2f s in all (%.2f of their sum).\n\n",
         types, m, r / 1024, s, m / s }'

# Start-up: inspect reads headers only.
walls=""
for _ in $(seq 10); do
  walls+="$(run_timed "$qtk" inspect "$model" | cut -d' ' -f1)"$'\n'
done
inspect=$(printf '%s' "$walls" | median)
awk -v w="$inspect" 'BEGIN { printf "`qtk inspect` on the checkpoint: %.0f ms (median of 10).\n", w * 1000 }'
