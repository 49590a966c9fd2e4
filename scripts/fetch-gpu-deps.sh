#!/usr/bin/env bash
# Run HERE (Debian 12, with network) before lending a GPU machine: downloads the Debian
# packages the CUDA build needs beyond a PyTorch+CUDA image into deps/debs/, and packs the
# CIFAR-10 image folder (../shared/data, which does not travel) into deps/cifar10-jpg.tgz
# (~20 MB) and copies Debian's Fashion-MNIST (~30 MB) into deps/fashion-mnist/. deps/ is
# ignored by git; carry it: device run(carry=["deps"]) (a run carries at most 64 MiB).
# scripts/gpu-bench.sh `dpkg -x`es the packages into deps/prefix there. The GPU build has no
# `etuner serve` and uses fmt header-only, so only header-only packages are needed (libfmt9
# because fmt's CMake config checks that its library file exists).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/cifar10-jpg}
rm -rf deps/debs && mkdir -p deps/debs
(cd deps/debs && apt-get download nlohmann-json3-dev libcli11-dev libfmt-dev libfmt9 libstb-dev zlib1g-dev)
[ -d "$DATA" ] || { echo "fetch-gpu-deps: no CIFAR-10 image folder at $DATA" >&2; exit 2; }
tar czf deps/cifar10-jpg.tgz -C "$(dirname "$DATA")" "$(basename "$DATA")"
FMNIST=/usr/share/datasets/fashion-mnist
if [ -d "$FMNIST" ]; then mkdir -p deps/fashion-mnist && cp "$FMNIST"/*.gz deps/fashion-mnist/; fi
ls -l deps/debs deps/cifar10-jpg.tgz deps/fashion-mnist
