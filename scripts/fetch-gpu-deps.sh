#!/usr/bin/env bash
# Run HERE (Debian 12, with network) before lending a GPU machine: downloads the Debian
# packages the CUDA build needs beyond a PyTorch+CUDA image into deps/debs/ (ignored by git;
# carry it: run(carry=["deps"])). scripts/gpu-bench.sh `dpkg -x`es them into deps/prefix
# there. Header-only where possible; fmt's shared library comes along (libfmt9).
# NOT RUN ON A GPU MACHINE YET (issue 7): untested end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p deps/debs
cd deps/debs
# The CLI and the torch modules: headers (and fmt's library).
apt-get download nlohmann-json3-dev libcli11-dev libfmt-dev libfmt9 libstb-dev zlib1g-dev
# `etuner serve` (linked into the CLI): cpp-httplib and what its pkg-config file requires,
# SQLite. Their runtime libraries (libssl3, libbrotli1, libsqlite3-0) come along in case the
# image lacks them.
apt-get download libcpp-httplib-dev libcpp-httplib0.11 libssl-dev libssl3 libbrotli-dev \
  libbrotli1 libsqlite3-dev libsqlite3-0
ls -l
