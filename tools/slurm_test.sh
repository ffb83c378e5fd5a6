#!/usr/bin/env bash
# Usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#     tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [ARGS]
source "$(dirname "${BASH_SOURCE[0]}")/launchers.sh"
take_args "PARTITION JOB_NAME CONFIG CHECKPOINT [ARGS]" "$@"
slurm_command test.py "$PARTITION" "$JOB_NAME" "$CONFIG" "$CHECKPOINT" \
    ${ARGS[@]+"${ARGS[@]}"}
exec "${CMD[@]}"
