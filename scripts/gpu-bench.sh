#!/usr/bin/env bash
# One prepared script for a lent GPU machine (a PyTorch 2.x + CUDA image, no network, none of
# Debian's packages): builds etuner against the wheel's LibTorch, checks the NVML meter
# against sampled power x time, runs the standard CIFAR-10 streams with --device cuda and
# prints a short table. Meant to finish well inside 8 minutes; each step is skipped once the
# time budget (BUDGET_S, default 420 s) would be overrun, so a slow step costs the later ones,
# never the whole run.
#
#   here:   scripts/fetch-gpu-deps.sh     # deps/: Debian packages and the data (ignored by git)
#   there:  scripts/gpu-bench.sh          # device run(carry=["deps"], timeout_s=...)
#
# Environment: STREAMS (default: cifar10-ni cifar10-nc cifar10-mixed; fmnist-ni and fmnist-nc
# work too), NVML_CHECK (default 1), POLICIES (default
# immediate,never,etuner), PEERS (a second run per stream once every stream has had the first,
# default immediate,periodic,egeria,autofreeze,ekya,oracle; empty to skip), OUT (default $OUT
# or out/gpu).
# Results: OUT/log.txt, OUT/meters.txt, OUT/power.csv, OUT/results.tgz (every results dir).
set -uo pipefail
cd "$(dirname "$0")/.."
T0=$(date +%s)
BUDGET_S=${BUDGET_S:-420}
OUTDIR=${OUT:-out/gpu}
STREAMS=${STREAMS-cifar10-ni cifar10-nc cifar10-mixed}
POLICIES=${POLICIES:-immediate,never,etuner}
PEERS=${PEERS-immediate,periodic,egeria,autofreeze,ekya,oracle}
RES=/tmp/etuner-gpu-results
mkdir -p "$OUTDIR" "$RES"
exec > >(tee "$OUTDIR/log.txt") 2>&1

elapsed() { echo $(( $(date +%s) - T0 )); }
# step NAME EST_S: true when NAME (about EST_S seconds) still fits the budget.
step() {
  if (( $(elapsed) + $2 > BUDGET_S )); then echo "== skip $1: $(elapsed) s used of $BUDGET_S"; return 1; fi
  echo "== $1 (at $(elapsed) s)"
}
finish() {
  tar czf "$OUTDIR/results.tgz" -C "$RES" . 2>/dev/null
  echo "== total: $(elapsed) s"
}
trap finish EXIT

nvidia-smi --query-gpu=name,memory.total,driver_version,power.limit --format=csv,noheader
python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())'
TORCH_PREFIX=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
ABI=$(python3 -c 'import torch;print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
echo "cores $(nproc), cmake $(cmake --version | head -1), $(c++ --version | head -1), ABI $ABI"
[ -d /usr/local/cuda/bin ] && export PATH=/usr/local/cuda/bin:$PATH

# Debian's header-only -dev packages carried from the dev machine, extracted into a prefix.
PREFIX=$PWD/deps/prefix
LIBDIR=$PREFIX/usr/lib/x86_64-linux-gnu
mkdir -p "$PREFIX"
for d in deps/debs/*.deb; do dpkg -x "$d" "$PREFIX"; done
# Debian's libz.so points at an absolute /lib path of its own zlib version: use the image's.
for z in /lib/x86_64-linux-gnu/libz.so.1 /usr/lib/x86_64-linux-gnu/libz.so.1; do
  [ -e "$z" ] && ln -sf "$z" "$LIBDIR/libz.so" && break
done
# The data travels in deps/ too (fetch-gpu-deps.sh): CIFAR-10 packed, Fashion-MNIST as is.
if [ -e deps/cifar10-jpg.tgz ]; then mkdir -p /tmp/data && tar xzf deps/cifar10-jpg.tgz -C /tmp/data; fi
data_for() {  # data_for STREAM: the --data root of a standard stream here
  case $1 in
    cifar10-*) echo /tmp/data/cifar10-jpg ;;
    fmnist-*) echo "$PWD/deps/fashion-mnist" ;;
  esac
}

FLAGS=""
# A pre-2.7 wheel uses the old string ABI: the whole project must match it.
[ "$ABI" = 0 ] && FLAGS="-D_GLIBCXX_USE_CXX11_ABI=0"
step build 200 || exit 1
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DETUNER_BUILD_TESTS=OFF \
  -DETUNER_SERVE=OFF -DETUNER_FMT_HEADER_ONLY=ON -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
  -DCMAKE_PREFIX_PATH="$TORCH_PREFIX;$PREFIX/usr" -DCMAKE_CXX_FLAGS="$FLAGS" > /tmp/cmake.log 2>&1 \
  || { tail -40 /tmp/cmake.log; exit 1; }
grep -E "Torch|CUDA" /tmp/cmake.log | head -5
ninja -C build-gpu etuner > /tmp/ninja.log 2>&1 || { grep -B2 -A12 -m3 "error" /tmp/ninja.log; tail -5 /tmp/ninja.log; exit 1; }
echo "build: $(elapsed) s"
ETUNER=build-gpu/etuner

if [ "${NVML_CHECK:-1}" = 1 ] && step nvml-check 45; then
  $ETUNER meters
  python3 scripts/gpu_power_check.py load --seconds 30 --samples "$OUTDIR/power.csv" --ready /tmp/load.ready &
  LOAD=$!
  for _ in $(seq 120); do [ -e /tmp/load.ready ] && break; sleep 0.5; done
  sleep 2
  $ETUNER meters --window-s 20 | tee "$OUTDIR/meters.txt"
  wait $LOAD
  python3 scripts/gpu_power_check.py compare --samples "$OUTDIR/power.csv" --meters "$OUTDIR/meters.txt"
fi

bench() {  # bench STREAM POLICIES DIR
  local t=$SECONDS
  $ETUNER bench --stream "bench/streams/$1.json" \
    --data "$(data_for "$1")" --policies "$2" --device cuda --out "$RES/$3" --quiet \
    || echo "bench $1 failed (exit $?)"
  echo "  $1: $((SECONDS - t)) s wall"
  python3 scripts/results_table.py "$RES/$3" 2>/dev/null || ls -R "$RES/$3" | head
}
for s in $STREAMS; do
  step "$s: $POLICIES" 60 && bench "$s" "$POLICIES" "$s"
done
for s in $STREAMS; do
  [ -n "$PEERS" ] && step "$s: $PEERS" 90 && bench "$s" "$PEERS" "$s-peers"
done
exit 0
