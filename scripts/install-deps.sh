#!/usr/bin/env bash
# Installs qtk's build and test dependencies from Debian 12's packages (run as root).
# Eigen (header-only) does the matrix products of qtk eval's forward pass.
# clang and its runtime libraries (libFuzzer, sanitizers) build the fuzz targets.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  g++ cmake ninja-build make python3 time \
  libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev \
  libonig-dev libutf8proc-dev libeigen3-dev pkg-config \
  catch2 libbenchmark-dev \
  clang libclang-rt-14-dev
