#!/usr/bin/env bash
# Create .venv and install the project with the embedded backend and the dev tools.
#
# llama-cpp-python compiles from source. Built with the build machine's native CPU flags it can
# crash with a general-protection fault on another machine (seen on the first request), so it is
# built here with portable flags, once, into a wheel cache keyed by version, flags, Python and CPU
# architecture; later installs (and CI runs on the same machine) reuse that wheel.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
LLAMA_VERSION=0.3.36
FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
  FLAGS="$FLAGS -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
else
  FLAGS="$FLAGS -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF"
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip

pyver=$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
key=$(printf '%s|%s|%s|%s' "$LLAMA_VERSION" "$FLAGS" "$pyver" "$(uname -m)" | sha256sum | cut -c1-16)
wheels="${XDG_CACHE_HOME:-$HOME/.cache}/guarantee-extractor/wheels/$key"
if ! ls "$wheels"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
  echo "building llama-cpp-python $LLAMA_VERSION with portable CPU flags (several minutes, once)"
  mkdir -p "$wheels"
  CMAKE_ARGS="$FLAGS" .venv/bin/python -m pip wheel -q --disable-pip-version-check \
    --no-cache-dir --no-deps --no-binary llama-cpp-python -w "$wheels" \
    "llama-cpp-python==$LLAMA_VERSION"
fi

.venv/bin/python -m pip install -q --disable-pip-version-check --find-links "$wheels" \
  -e ".[local,ray,dev]"
echo "installed: $(.venv/bin/extractor --version)"
