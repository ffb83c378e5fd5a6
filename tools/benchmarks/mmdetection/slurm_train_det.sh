#!/usr/bin/env bash
# tools/benchmarks/mmdetection/train_det.sh on a slurm cluster.
# Usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#     [WORK_DIR=...] tools/benchmarks/mmdetection/slurm_train_det.sh \
#     PARTITION CONFIG PRETRAIN [ARGS]
set -euo pipefail
if (( $# < 3 )); then
    echo "usage: $0 PARTITION CONFIG PRETRAIN [ARGS]" >&2
    exit 2
fi
PARTITION=$1
CONFIG=$2
PRETRAIN=$3
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
PYTHON=${PYTHON:-python}
export PYTHON
NAME=$(basename "$CONFIG" .py)
WORK_DIR=${WORK_DIR:-work_dirs/benchmarks/$NAME}

INIT_OPTIONS=$("$PYTHON" "$ROOT/tools/model_converters/pretrained_cfg_options.py" "$CONFIG" "$PRETRAIN")
mapfile -t INIT_OPTIONS <<< "$INIT_OPTIONS"

exec bash "$ROOT/tools/slurm_train.sh" "$PARTITION" "det_$NAME" "$CONFIG" \
    "$WORK_DIR" "${@:4}" --cfg-options "${INIT_OPTIONS[@]}"
