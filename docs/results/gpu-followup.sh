#!/usr/bin/env bash
# The second device call of 2026-11-27 (docs/results/2026-11-27-h200.md): after the full
# scripts/gpu-check run, what it left open, in one call that fits the device time left.
#   1. build as gpu-check does (only kn-tests-gpu, kn-iris, kn-bench);
#   2. the scripted kn-bench test, fixed after the first run (tests/scripts/bench.cmake);
#   3. on the idle card, one after another: kn-iris --device cuda in each mode and readback,
#      then the lesson's PyTorch loop (bench/torch_iris.py) with loss.item() every epoch,
#      every 200, never;
#   4. the sanitizer runs the first call's budget cut: racecheck over the GPU tests (the
#      odd-shape GEMM test apart, in parallel), racecheck and initcheck over a traced kn-iris.
# Logs in $OUT (7 files and the build log). Usage (device tool): docs/results/gpu-followup.sh, carry .deps.
set -u
OUT=${OUT:-gpu-followup-out}
mkdir -p "$OUT"
B=build-gpu-check
CS=/usr/local/cuda/bin/compute-sanitizer
FIX=tests/fixtures/torch-iris-seed1/init.safetensors
FILTER='[gpu]~[slow]~[api-error]~[large]'
ODD='*odd shapes*'  # the odd-shape GEMM test (its name has a comma, which Catch reads as 'or')
{
  cmake -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc \
    -DCMAKE_PREFIX_PATH=$PWD/.deps -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_CUDA_ARCHITECTURES=native &&
    cmake --build $B -j 16 --target kn-tests-gpu kn-iris kn-bench
} >"$OUT/build.log" 2>&1 || { echo "build failed"; tail -20 "$OUT/build.log"; exit 1; }
(cd $B && ctest -R 'kn-bench: every subcommand' --output-on-failure) >"$OUT/bench-test.log" 2>&1
echo "kn-bench scripted test: exit $? ($(grep -E 'tests passed|tests failed' "$OUT/bench-test.log"))"
{
  for mode in eager graph fused; do for every in 1 200 0; do
    $B/apps/kn-iris --device cuda --mode $mode --record-every $every --init-weights $FIX --quiet | grep '^result'
  done; done
  for every in 1 200 0; do
    echo "torch every=$every: $(timeout 45 python3 bench/torch_iris.py --device cuda --record-every $every | grep '^result')"
  done
} >"$OUT/timing.log" 2>&1
cat "$OUT/timing.log"
san() {  # san <tool> <log> <args...>
  local tool=$1 log=$2; shift 2
  KN_KERNEL_LOG=/tmp/kn-kernels-$tool-$log.txt timeout 150 $CS --tool $tool --error-exitcode 1 --print-limit 20 "$@" \
    >"$OUT/san-$tool-$log.log" 2>&1
  echo "$tool $log: exit $? | $(grep -E 'ERROR SUMMARY|All tests passed|test cases:' "$OUT/san-$tool-$log.log" | tr '\n' ' ')"
}
san racecheck tests $B/tests/kn-tests-gpu "$FILTER~$ODD" &
san racecheck oddgemm $B/tests/kn-tests-gpu "$ODD" --durations yes &
san racecheck iris $B/apps/kn-iris --device cuda --epochs 3 --trace-epochs 2 --quiet &
san initcheck iris $B/apps/kn-iris --device cuda --epochs 3 --trace-epochs 2 --quiet &
wait
cat /tmp/kn-kernels-*.txt 2>/dev/null | sort -u | tr '\n' ' ' > "$OUT/kernels.txt"
echo "kernels reached: $(cat "$OUT/kernels.txt")"
