#!/usr/bin/env bash
# One prepared script for a lent GPU machine (PyTorch 2.x + CUDA image, no network, no
# Debian packages beyond the image): builds etuner against the wheel's LibTorch, runs the
# standard CIFAR-10 stream for immediate and etuner (and the peers if PEERS=1) with
# --device cuda, and prints a short table. Meant to finish well inside 8 minutes.
#
#   here:   scripts/fetch-gpu-deps.sh                 # deps/debs/*.deb (ignored by git)
#   there:  scripts/gpu-bench.sh                      # run(carry=["deps"], timeout_s=...)
#
# Environment: DATA (CIFAR-10 image folder, default ../shared/data/cifar10-jpg), STREAM
# (default bench/streams/cifar10-ni.json), POLICIES (default immediate,etuner), PEERS=1
# (adds periodic,egeria,autofreeze,ekya,oracle), OUT (default $OUT or out/gpu).
#
# STATUS: NOT RUN YET. No GPU was available when it was written (issue 7); expect to fix
# the first run. Known risks: the wheel's C++ ABI (pre-2.7 wheels use the old
# _GLIBCXX_USE_CXX11_ABI=0, which Debian's prebuilt libfmt does not match: the script then
# compiles fmt header-only; cpp-httplib's prebuilt library would still mismatch), a glibc
# older than Debian 12's for the carried libraries, and a CMake older than 3.22 (no
# PKG_CONFIG_ARGN for the relocated .pc files).
set -euo pipefail
cd "$(dirname "$0")/.."
T0=$(date +%s)
OUTDIR=${OUT:-out/gpu}
STREAM=${STREAM:-bench/streams/cifar10-ni.json}
DATA=${DATA:-../shared/data/cifar10-jpg}
POLICIES=${POLICIES:-immediate,etuner}
[ "${PEERS:-0}" = 1 ] && POLICIES="$POLICIES,periodic,egeria,autofreeze,ekya,oracle"
mkdir -p "$OUTDIR"
if [ ! -d "$DATA" ]; then
  # 236 MB of JPEGs do not fit the 64 MiB a run may carry: the lent machine must have them
  # (shared/ travels where the checkout has one) or DATA must name a smaller copy.
  echo "gpu-bench: no CIFAR-10 image folder at $DATA (set DATA=...)" >&2
  exit 2
fi

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
TORCH_PREFIX=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
ABI=$(python3 -c 'import torch;print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())'

# Debian -dev packages carried from the dev machine, extracted into a private prefix.
PREFIX=$PWD/deps/prefix
LIBDIR=$PREFIX/usr/lib/x86_64-linux-gnu
if [ -d deps/debs ]; then
  mkdir -p "$PREFIX"
  for d in deps/debs/*.deb; do dpkg -x "$d" "$PREFIX"; done
  # Debian's libz.so points at an absolute /lib path; point it at whatever zlib is there.
  for z in /lib/x86_64-linux-gnu/libz.so.1 /usr/lib/x86_64-linux-gnu/libz.so.1; do
    [ -e "$z" ] && ln -sf "$z" "$LIBDIR/libz.so" && break
  done
fi
# Debian's .pc files say prefix=/usr: let pkg-config rewrite it to where they were extracted.
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig:$PREFIX/usr/share/pkgconfig:${PKG_CONFIG_PATH:-}"
CXXFLAGS_EXTRA="-I$PREFIX/usr/include"
if [ "$ABI" = 0 ]; then
  # The whole project must use the wheel's ABI; fmt then goes header-only (its prebuilt
  # library has the new ABI).
  CXXFLAGS_EXTRA="$CXXFLAGS_EXTRA -D_GLIBCXX_USE_CXX11_ABI=0 -DFMT_HEADER_ONLY=1"
fi

cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DETUNER_BUILD_TESTS=OFF -DETUNER_FUZZ=OFF \
  -DCMAKE_PREFIX_PATH="$TORCH_PREFIX;$PREFIX/usr;$PREFIX/usr/lib/x86_64-linux-gnu/cmake" \
  -DPKG_CONFIG_ARGN=--define-prefix -DCMAKE_CXX_FLAGS="$CXXFLAGS_EXTRA" 2>&1 | tail -5
ninja -C build-gpu etuner 2>&1 | tail -3
# The carried libraries only for etuner itself (python keeps the image's own).
ETUNER=(env "LD_LIBRARY_PATH=$LIBDIR:${LD_LIBRARY_PATH:-}" build-gpu/etuner)
echo "build: $(( $(date +%s) - T0 )) s"

"${ETUNER[@]}" meters || true
# The data root may live elsewhere on the lent machine: --data overrides the spec's root.
"${ETUNER[@]}" bench --stream "$STREAM" --data "$DATA" --policies "$POLICIES" \
  --device cuda --out "$OUTDIR" --quiet
echo "total: $(( $(date +%s) - T0 )) s"
python3 scripts/results_table.py "$OUTDIR"  # the same table docs/results.md uses
