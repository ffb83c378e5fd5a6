#!/usr/bin/env bash
# tools/benchmarks/mmdetection/train_det.sh on a slurm cluster.
# Usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#     [WORK_DIR=...] tools/benchmarks/mmdetection/slurm_train_det.sh \
#     PARTITION CONFIG PRETRAIN [ARGS]
source "$(dirname "${BASH_SOURCE[0]}")/../benchmark_args.sh"
take_args "PARTITION CONFIG PRETRAIN [ARGS]" "$@"
# PRETRAIN is checked here, before a job is submitted.
prepare_benchmark "$CONFIG" "$PRETRAIN" ${ARGS[@]+"${ARGS[@]}"}

slurm_command train.py "$PARTITION" "det_$NAME" "$CONFIG" \
    --work-dir="$WORK_DIR" ${ARGS[@]+"${ARGS[@]}"} --cfg-options "${INIT_OPTIONS[@]}"
exec "${CMD[@]}"
