#!/usr/bin/env bash
# The second device call of the 2026-11-27 evening session (docs/results/2026-11-27-h200-b.md),
# after scripts/gpu-measure: what that call could not finish, in the device time left.
#   1. build kn-tests-gpu and kn-iris as gpu-measure does;
#   2. on the idle card: kn-iris --mode graph with the loss read every epoch / 200 / never,
#      then bench/torch_iris.py --mode graph the same three ways (the capture fixed: the
#      warm-up's loss no longer keeps a side-stream autograd graph alive);
#   3. scripts/gpu-racecheck with a 215 s deadline (gpu-measure's racecheck step was cut
#      by its outer limit before it wrote its log).
# Logs in $OUT: summary.txt build.log timing.log racecheck.log.
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-gpu-followup-out}
mkdir -p "$OUT"
B=build-gpu-check
FIX=tests/fixtures/torch-iris-seed1/init.safetensors
S=$OUT/summary.txt
T0=$(date +%s)
{
  echo "gpu-followup-2 $(date -u '+%Y-%m-%d %H:%M:%S UTC'), commit ${KN_COMMIT:-unknown}"
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader
} | tee "$S"
{
  cmake -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc \
    -DCMAKE_PREFIX_PATH=$PWD/.deps -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_CUDA_ARCHITECTURES=native &&
    cmake --build $B -j "$(nproc)" --target kn-tests-gpu kn-iris
} >"$OUT/build.log" 2>&1 || { echo "build failed" | tee -a "$S"; tail -20 "$OUT/build.log"; exit 1; }
echo "build: ok ($(($(date +%s) - T0)) s)" | tee -a "$S"
{
  for every in 1 200 0; do
    echo "kn-iris mode=graph every=$every: $($B/apps/kn-iris --device cuda --mode graph --record-every $every \
      --init-weights $FIX --quiet | grep '^result')"
  done
  for every in 1 200 0; do
    echo "torch mode=graph every=$every: $(timeout 30 python3 bench/torch_iris.py --device cuda --mode graph \
      --record-every $every 2>&1 | tail -3 | tr '\n' ' ')"
  done
} >"$OUT/timing.log" 2>&1
cat "$OUT/timing.log" | tee -a "$S"
echo "timing: done ($(($(date +%s) - T0)) s)" | tee -a "$S"
scripts/gpu-racecheck $B "$OUT/racecheck.log" 215 >/dev/null
echo "racecheck: exit $? | $(tail -1 "$OUT/racecheck.log")" | tee -a "$S"
echo "clocks at the end: $(nvidia-smi --query-gpu=clocks.sm,clocks.max.sm --format=csv,noheader)" | tee -a "$S"
