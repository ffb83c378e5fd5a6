#!/usr/bin/env bash
# Fine-tune Mask R-CNN (configs/benchmarks/mmdetection) from a pretrained
# encoder and evaluate bbox/segm mAP after every epoch.
# Usage: tools/benchmarks/mmdetection/train_det.sh CONFIG PRETRAIN GPUS [ARGS]
#   PRETRAIN  a backbone exported by
#             tools/model_converters/extract_backbone_weights.py (or a
#             clsa_mm checkpoint); it initialises the backbone and, for C4,
#             the res5 RoI head
#   GPUS      processes; more than 1 runs tools/dist_train.sh (on the CPU
#             with gloo and BN instead of SyncBN when there is no GPU)
#   ARGS      passed to tools/train.py
# Environment: WORK_DIR (default work_dirs/benchmarks/<config name>), PYTHON,
# and those of tools/dist_train.sh. Test a checkpoint with tools/test.py or
# tools/dist_test.sh.
set -euo pipefail
if (( $# < 3 )); then
    echo "usage: $0 CONFIG PRETRAIN GPUS [ARGS]" >&2
    exit 2
fi
CONFIG=$1
PRETRAIN=$2
GPUS=$3
if ! [[ "$GPUS" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: GPUS must be a positive integer, got '$GPUS'" >&2
    exit 2
fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python; fi
fi
export PYTHON
WORK_DIR=${WORK_DIR:-work_dirs/benchmarks/$(basename "$CONFIG" .py)}

INIT_OPTIONS=$("$PYTHON" "$ROOT/tools/model_converters/pretrained_cfg_options.py" "$CONFIG" "$PRETRAIN")
mapfile -t INIT_OPTIONS <<< "$INIT_OPTIONS"

if (( GPUS > 1 )); then
    exec bash "$ROOT/tools/dist_train.sh" "$CONFIG" "$GPUS" \
        --work-dir "$WORK_DIR" "${@:4}" --cfg-options "${INIT_OPTIONS[@]}"
fi
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec "$PYTHON" "$ROOT/tools/train.py" \
    "$CONFIG" --work-dir "$WORK_DIR" "${@:4}" --cfg-options "${INIT_OPTIONS[@]}"
