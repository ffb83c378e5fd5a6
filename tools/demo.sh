#!/usr/bin/env bash
# The CLSA demo (`make demo`): make the demo data from the photographs that
# scikit-image and scikit-learn ship, pretrain CLSA and MoCo v2 (the same
# recipe without the strong views and DDM) with a ResNet-18 on it, and compare
# the linear-probe and k-NN top-1 of their backbones with those of a randomly
# initialised one. See tools/run_demo.py and tools/demo_steps.py.
# Usage: bash tools/demo.sh [SEED] [run_demo.py options]
# Prints one line per step and the table. Output: work_dirs/demo/seed_<SEED>/
# (checkpoints, results.md, PNGs; the full output of every step in logs/).
source "$(dirname "${BASH_SOURCE[0]}")/launchers.sh"
repo_python
SEED=${1:-0}
if ! [[ "$SEED" =~ ^[0-9]+$ ]]; then
    echo "error: SEED must be a non-negative integer, got '$SEED'" >&2
    exit 2
fi
cd "$ROOT"
exec "$PYTHON" tools/run_demo.py --seed "$SEED" "${@:2}"
