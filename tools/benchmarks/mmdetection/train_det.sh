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
#   ARGS      passed to tools/train.py (not --work-dir: set WORK_DIR)
# Environment: WORK_DIR (default work_dirs/benchmarks/<config name>), PYTHON,
# and those of tools/dist_train.sh. Test a checkpoint with tools/test.py or
# tools/dist_test.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
source "$ROOT/tools/benchmarks/benchmark_args.sh"
need_args 3 $# "CONFIG PRETRAIN GPUS [ARGS]"
CONFIG=$1
PRETRAIN=$2
GPUS=$3
check_gpus "$GPUS"
# The backbone (and, for C4, res5 head) init from PRETRAIN; refuses a file
# of another kind or one that does not fit, before training.
prepare_benchmark "$CONFIG" "$PRETRAIN" "${@:4}"

if (( GPUS > 1 )); then
    exec bash "$ROOT/tools/dist_train.sh" "$CONFIG" "$GPUS" \
        --work-dir "$WORK_DIR" "${@:4}" --cfg-options "${INIT_OPTIONS[@]}"
fi
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec "$PYTHON" "$ROOT/tools/train.py" \
    "$CONFIG" --work-dir "$WORK_DIR" "${@:4}" --cfg-options "${INIT_OPTIONS[@]}"
