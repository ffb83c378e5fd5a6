#!/usr/bin/env bash
# Creates .venv/ at the repository root with the pinned OpenMMLab stack and
# clsa_mm in editable mode. Every Makefile target goes through this script.
#
# mmcv 2.1.0 has no wheel for torch 2.14, so it is compiled from source once
# (ops included) and the wheel is cached in $CLSA_MM_CACHE (default
# ~/.cache/clsa_mm); later runs reuse it and take well under a minute.
#
# Environment: PYTHON (interpreter for the venv, default python3.11),
# CLSA_MM_VENV (default <repo>/.venv), CLSA_MM_CACHE, MAX_JOBS (compile
# jobs, default: number of cores), FORCE_CUDA=1 to build mmcv's CUDA ops.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${CLSA_MM_VENV:-$ROOT/.venv}
CACHE=${CLSA_MM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clsa_mm}
PYTHON=${PYTHON:-python3.11}
MMCV_VERSION=2.1.0
STEP="start"

step() {
    STEP="$*"
    echo "[install_env $(date +%H:%M:%S)] $STEP"
}
trap 'echo "[install_env] FAILED during step: $STEP (see the output above)" >&2' ERR

step "create virtual environment $VENV"
if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

step "install torch, torchvision and build requirements"
"${PIP[@]}" install -q -r "$ROOT/requirements/build.txt"

TORCH=$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')
PYTAG=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
if [[ "${FORCE_CUDA:-0}" == "1" ]]; then FLAVOUR=cuda; else FLAVOUR=cpu; fi
WHEELS="$CACHE/wheels/mmcv-$MMCV_VERSION-torch$TORCH-$PYTAG-$FLAVOUR"

if "$PY" -c "import mmcv, sys; from mmcv.ops import nms; sys.exit(mmcv.__version__ != '$MMCV_VERSION')" 2>/dev/null; then
    step "mmcv $MMCV_VERSION with ops already installed"
else
    if ! ls "$WHEELS"/mmcv-*.whl >/dev/null 2>&1; then
        step "compile mmcv $MMCV_VERSION with ops (about 13 min on 2 cores; cached in $WHEELS)"
        SRC=$(mktemp -d)
        # mmcv's setup.py imports pkg_resources, which setuptools>=70 dropped
        # from build environments; torch asks for >=77 only at run time.
        "${PIP[@]}" install -q "setuptools<70"
        "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation \
            -d "$SRC" "mmcv==$MMCV_VERSION"
        tar -xzf "$SRC"/mmcv-$MMCV_VERSION.tar.gz -C "$SRC"
        # torch 2.14 headers need C++20.
        sed -i 's/-std=c++17/-std=c++20/g' "$SRC/mmcv-$MMCV_VERSION/setup.py"
        grep -q -- '-std=c++20' "$SRC/mmcv-$MMCV_VERSION/setup.py"
        mkdir -p "$WHEELS.partial"
        (cd "$SRC/mmcv-$MMCV_VERSION" &&
            MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
            "${PIP[@]}" wheel --no-deps --no-build-isolation -w "$WHEELS.partial" .)
        # Publish the cache only once the wheel is complete.
        rm -rf "$WHEELS" && mv "$WHEELS.partial" "$WHEELS"
        rm -rf "$SRC"
    fi
    step "install cached mmcv wheel from $WHEELS"
    "${PIP[@]}" install -q --no-deps "$WHEELS"/mmcv-*.whl
fi

step "install mmengine, mmpretrain, mmdet and runtime/test requirements"
"${PIP[@]}" install -q addict packaging pyyaml yapf \
    -r "$ROOT/requirements/runtime.txt" \
    -r "$ROOT/requirements/mminstall.txt" \
    -r "$ROOT/requirements/tests.txt"

step "install clsa_mm (editable)"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"

step "check the installed stack"
"$PY" - <<'EOF'
import mmcv, mmdet, mmengine, mmpretrain, numpy, torch, torchvision
from mmcv.ops import RoIAlign, nms  # noqa: F401  compiled ops are present
import clsa_mm
print(f'torch {torch.__version__} torchvision {torchvision.__version__} '
      f'numpy {numpy.__version__} mmengine {mmengine.__version__} '
      f'mmcv {mmcv.__version__} mmpretrain {mmpretrain.__version__} '
      f'mmdet {mmdet.__version__} clsa_mm {clsa_mm.__version__}')
EOF
step "done"
