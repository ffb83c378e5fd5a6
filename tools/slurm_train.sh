#!/usr/bin/env bash
# Usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#     tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [ARGS]
source "$(dirname "${BASH_SOURCE[0]}")/launchers.sh"
take_args "PARTITION JOB_NAME CONFIG WORK_DIR [ARGS]" "$@"
slurm_command train.py "$PARTITION" "$JOB_NAME" "$CONFIG" \
    --work-dir="$WORK_DIR" ${ARGS[@]+"${ARGS[@]}"}
exec "${CMD[@]}"
