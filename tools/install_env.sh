#!/usr/bin/env bash
# Creates .venv/ at the repository root with the pinned OpenMMLab stack and
# clsa_mm in editable mode. Every Makefile target goes through this script.
#
# mmcv 2.1.0 has no wheel for torch 2.14, so it is compiled from source once
# (ops included) and the wheel is cached in $CLSA_MM_CACHE (default
# ~/.cache/clsa_mm); later runs reuse it (timings: docs/get_started.md).
#
# Flavour: where torch sees a GPU (torch.cuda.is_available()) and nvcc is
# found, mmcv's CUDA ops are built as well ("cuda<nvcc version>", e.g.
# cuda12.1), else the CPU ops only ("cpu"). The cached wheel is named by the
# flavour the build really produced (asked of the built mmcv), and the script
# says which it built. FORCE_CUDA=1 insists on CUDA (an error without nvcc),
# FORCE_CUDA=0 builds the CPU flavour on a GPU machine.
#
# Order: venv, torch, mmengine, then mmcv (the flavour check imports
# mmcv.ops, which imports mmengine), then mmpretrain and mmdet (which
# require mmcv and would otherwise pull its source from PyPI), then clsa_mm.
#
# Nothing built is thrown away: the compile writes its wheel into
# $CLSA_MM_CACHE/wheels/<name>.partial and publishes it under its flavour
# only once installed and checked; a rerun after a failure or an interrupt
# that left a complete wheel there publishes that wheel instead of
# compiling again.
#
# Environment: PYTHON (interpreter for the venv, default python3.11),
# CLSA_MM_VENV (default <repo>/.venv), CLSA_MM_CACHE, MAX_JOBS (compile
# jobs, default: number of cores), FORCE_CUDA, NVCC (the nvcc to use;
# default $CUDA_HOME/bin/nvcc, nvcc on PATH, /usr/local/cuda/bin/nvcc),
# CLSA_MM_TORCH_CUDA=0/1 (stands in for torch.cuda.is_available(); tests),
# CLSA_MM_MMCV_WHEEL (a prebuilt mmcv wheel taken in place of the compile,
# with every later step as after a compile; the suite's cold-install test).
#
# `install_env.sh --print-flavour` prints the flavour this machine asks for
# and `--print-installed-flavour` that of the installed mmcv (venv needed).
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
SRC=""  # mmcv's source tree while it compiles; removed however the script ends
trap 'if [[ -n "$SRC" ]]; then rm -rf "$SRC"; fi' EXIT

find_nvcc() {
    local candidate
    if [[ -n "${NVCC+set}" ]]; then
        candidate=$NVCC
    elif [[ -n "${CUDA_HOME:-}" && -x "$CUDA_HOME/bin/nvcc" ]]; then
        candidate=$CUDA_HOME/bin/nvcc
    else
        candidate=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
    fi
    [[ -n "$candidate" && -x "$candidate" ]] && echo "$candidate"
}

# The flavour this machine asks for: cuda<nvcc version> or cpu.
wanted_flavour() {
    local nvcc gpu
    nvcc=$(find_nvcc) || nvcc=""
    if [[ "${FORCE_CUDA:-}" == "0" ]]; then echo cpu; return; fi
    if [[ "${FORCE_CUDA:-}" == "1" && -z "$nvcc" ]]; then
        echo "[install_env] FORCE_CUDA=1 but no nvcc found (set NVCC or CUDA_HOME)" >&2
        return 1
    fi
    gpu=${CLSA_MM_TORCH_CUDA:-$("$PY" -c 'import torch; print(int(torch.cuda.is_available()))')}
    if [[ -n "$nvcc" && ( "$gpu" == "1" || "${FORCE_CUDA:-}" == "1" ) ]]; then
        echo "cuda$("$nvcc" --version | sed -n 's/.*release \([0-9][0-9.]*\).*/\1/p')"
    else
        echo cpu
    fi
}

# The flavour of the installed mmcv, asked of its compiled ops.
installed_flavour() {
    "$PY" -c 'from mmcv.ops import get_compiling_cuda_version as v
print("cpu" if v() == "not available" else "cuda" + v())'
}

PY="$VENV/bin/python"
case "${1:-}" in
    --print-flavour) wanted_flavour; exit ;;
    --print-installed-flavour) installed_flavour; exit ;;
    "") ;;
    *) echo "usage: $0 [--print-flavour|--print-installed-flavour]" >&2; exit 2 ;;
esac

step "create virtual environment $VENV"
if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$PY" -m pip --disable-pip-version-check)

step "install torch, torchvision and build requirements"
"${PIP[@]}" install -q -r "$ROOT/requirements/build.txt"

step "install mmengine (mmcv imports it)"
"${PIP[@]}" install -q addict packaging pyyaml yapf \
    "$(grep -o '^mmengine[^ #]*' "$ROOT/requirements/mminstall.txt")"

TORCH=$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')
PYTAG=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
FLAVOUR=$(wanted_flavour)
WHEEL_NAME="mmcv-$MMCV_VERSION-torch$TORCH-$PYTAG"
WHEELS="$CACHE/wheels/$WHEEL_NAME-$FLAVOUR"
PARTIAL="$CACHE/wheels/$WHEEL_NAME.partial"

compile_mmcv() {
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
    local cuda_env=(FORCE_CUDA=0)
    if [[ "$FLAVOUR" == cuda* ]]; then
        local nvcc_path
        nvcc_path=$(find_nvcc)
        cuda_env=(FORCE_CUDA=1 "CUDA_HOME=$(dirname "$(dirname "$nvcc_path")")")
    fi
    # pip writes the wheel into -w only once it is complete.
    (cd "$SRC/mmcv-$MMCV_VERSION" &&
        env "${cuda_env[@]}" MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
        "${PIP[@]}" wheel --no-deps --no-build-isolation -w "$PARTIAL" .)
}

if "$PY" -c "import mmcv, sys; from mmcv.ops import nms; sys.exit(mmcv.__version__ != '$MMCV_VERSION')" 2>/dev/null &&
        [[ "$(installed_flavour)" == "$FLAVOUR" ]]; then
    step "mmcv $MMCV_VERSION with the $FLAVOUR flavour already installed"
else
    if ! ls "$WHEELS"/mmcv-*.whl >/dev/null 2>&1; then
        mkdir -p "$PARTIAL"
        if [[ -n "${CLSA_MM_MMCV_WHEEL:-}" ]]; then
            step "take the prebuilt mmcv wheel $CLSA_MM_MMCV_WHEEL (CLSA_MM_MMCV_WHEEL) in place of the compile"
            [[ -f "$CLSA_MM_MMCV_WHEEL" ]] || {
                echo "[install_env] CLSA_MM_MMCV_WHEEL=$CLSA_MM_MMCV_WHEEL is not a file" >&2
                false
            }
            rm -f "$PARTIAL"/mmcv-*.whl
            cp "$CLSA_MM_MMCV_WHEEL" "$PARTIAL/"
        elif ls "$PARTIAL"/mmcv-*.whl >/dev/null 2>&1; then
            step "reuse the complete wheel an earlier run built: $(ls "$PARTIAL"/mmcv-*.whl)"
        else
            step "compile mmcv $MMCV_VERSION, $FLAVOUR flavour (cpu: about 11 min on 2 cores)"
            compile_mmcv
        fi
        # Name the cache by what was really built (asked of the installed
        # wheel), and publish it only once the wheel installs and imports.
        "${PIP[@]}" install -q --no-deps --force-reinstall "$PARTIAL"/mmcv-*.whl
        BUILT=$(installed_flavour)
        step "built mmcv $MMCV_VERSION with the $BUILT flavour"
        if [[ "$BUILT" != "$FLAVOUR" ]]; then
            echo "[install_env] WARNING: asked for the $FLAVOUR flavour, the build produced $BUILT" >&2
        fi
        WHEELS="$CACHE/wheels/$WHEEL_NAME-$BUILT"
        rm -rf "$WHEELS" && mv "$PARTIAL" "$WHEELS"
    fi
    step "install cached mmcv wheel from $WHEELS"
    "${PIP[@]}" install -q --no-deps --force-reinstall "$WHEELS"/mmcv-*.whl
fi

step "install mmpretrain, mmdet and runtime/test requirements"
"${PIP[@]}" install -q \
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
step "done: mmcv with the $(installed_flavour) flavour"
