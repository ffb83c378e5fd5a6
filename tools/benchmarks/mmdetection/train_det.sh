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
source "$(dirname "${BASH_SOURCE[0]}")/../benchmark_args.sh"
take_args "CONFIG PRETRAIN GPUS [ARGS]" "$@"
# The backbone (and, for C4, res5 head) init from PRETRAIN; refuses a file
# of another kind or one that does not fit, before training.
prepare_benchmark "$CONFIG" "$PRETRAIN" ${ARGS[@]+"${ARGS[@]}"}

gpus_command train.py "$CONFIG" --work-dir "$WORK_DIR" \
    ${ARGS[@]+"${ARGS[@]}"} --cfg-options "${INIT_OPTIONS[@]}"
exec "${CMD[@]}"
