#!/usr/bin/env bash
# kernelnet's CPU backend against PyTorch on one thread, the same 20000-epoch Iris
# training without per-epoch readback, measured in one run on this machine:
# kernelnet eager (Modules and autograd, the lesson's loop) and fused (one pass per
# epoch), each against PyTorch's eager loop.
#   bench/cpu-vs-torch.sh [BUILD_DIR] [REPEATS]
# Needs Debian's python3-torch (and python3-sklearn for the split); says so and
# exits 0 when they are missing. Prints each run, the medians and the two ratios last.
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
us() { sed -n 's/.*us_per_epoch=\([0-9.]*\).*/\1/p'; }
ke=() ; kf=() ; pt=()
for i in $(seq "$reps"); do  # interleaved, so a busy moment hits all three alike
  e=$("$app" --device cpu --mode eager --threads 1 --record-every 0 --quiet | us)
  f=$("$app" --device cpu --mode fused --threads 1 --record-every 0 --quiet | us)
  t=$("$py" "$here/torch_iris.py" --device cpu --threads 1 --record-every 0 | us)
  [ -n "$e" ] && [ -n "$f" ] && [ -n "$t" ] || { echo "run $i: a run printed no us_per_epoch"; exit 1; }
  echo "run $i: kernelnet eager ${e} us/epoch, fused ${f} us/epoch; pytorch ${t} us/epoch"
  ke+=("$e"); kf+=("$f"); pt+=("$t")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
me=$(median "${ke[@]}"); mf=$(median "${kf[@]}"); mt=$(median "${pt[@]}")
torch_version=$("$py" -c "import torch; print(torch.__version__)")
echo "median: kernelnet eager ${me} us/epoch, fused ${mf} us/epoch; pytorch ${torch_version} (1 thread) ${mt} us/epoch"
ratio() {  # name, kernelnet's median, target
  awk -v n="$1" -v k="$2" -v t="$mt" -v g="$3" \
    'BEGIN { r = t / k; printf "ratio %s: pytorch / kernelnet = %.1f (target >= %d): %s\n", n, r, g, (r >= g ? "met" : "NOT met") }'
}
ratio eager "$me" 40
ratio fused "$mf" 100
