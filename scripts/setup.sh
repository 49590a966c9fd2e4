#!/usr/bin/env bash
# Installs the Debian packages etuner needs, if any are missing. As root it runs apt-get;
# otherwise it prints the exact command and fails, so nothing half-works silently.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev libopenblas0-pthread     # LibTorch 1.13; OpenBLAS for its matrix products
  nlohmann-json3-dev libcli11-dev libfmt-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libjpeg62-turbo-dev libpng-dev libstb-dev zlib1g-dev
  libsqlite3-dev libcpp-httplib-dev
  clang libclang-rt-dev clang-format    # libFuzzer targets (fuzz/, optional); the format check
  libasan8 libubsan1 liblsan0 libtsan2  # GCC 12's sanitizer runtimes: make sanitize, make tsan
  dataset-fashion-mnist                 # the embedded default data set
  python3 python3-jsonschema            # tests: outputs read back with csv and JSON Schema
)
packages+=(${ETUNER_EXTRA_PACKAGES:-})

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "etuner needs these Debian packages: ${missing[*]}" >&2
  echo "install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
