#!/usr/bin/env bash
# kernelnet's CPU backend against PyTorch on one thread, the same 20000-epoch Iris
# training without per-epoch readback, measured in one run on this machine.
#   bench/cpu-vs-torch.sh [BUILD_DIR] [REPEATS]
# Needs Debian's python3-torch (and python3-sklearn for the split); says so and
# exits 0 when they are missing. Prints each run, the medians and the ratio last.
set -u
build=${1:-build}
reps=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
app="$build/apps/kn-iris"
[ -x "$app" ] || { echo "no $app: build first (make iris)"; exit 1; }
if ! "$py" -c "import torch" 2>/dev/null; then
  echo "SKIPPED: PyTorch is not installed (Debian: apt-get install python3-torch python3-sklearn)"
  exit 0
fi
kn=() ; pt=()
for i in $(seq "$reps"); do  # interleaved, so a busy moment hits both alike
  k=$(OMP_NUM_THREADS=1 "$app" --device cpu --record-every 0 --quiet | sed -n 's/.*us_per_epoch=\([0-9.]*\).*/\1/p')
  t=$("$py" "$here/torch_iris.py" --device cpu --threads 1 --record-every 0 | sed -n 's/.*us_per_epoch=\([0-9.]*\).*/\1/p')
  echo "run $i: kernelnet ${k} us/epoch, pytorch ${t} us/epoch"
  kn+=("$k"); pt+=("$t")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mk=$(median "${kn[@]}"); mt=$(median "${pt[@]}")
torch_version=$("$py" -c "import torch; print(torch.__version__)")
echo "median: kernelnet ${mk} us/epoch, pytorch ${torch_version} (1 thread) ${mt} us/epoch"
awk -v k="$mk" -v t="$mt" 'BEGIN { r = t / k; printf "ratio: pytorch / kernelnet = %.1f (target >= 20): %s\n", r, (r >= 20 ? "met" : "NOT met") }'
