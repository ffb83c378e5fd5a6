#!/usr/bin/env bash
# tools/benchmarks/linear_eval.sh on a slurm cluster: tools/slurm_train.sh,
# then tools/slurm_test.sh on the last checkpoint.
# Usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#     [WORK_DIR=...] tools/benchmarks/slurm_linear_eval.sh PARTITION CONFIG \
#     PRETRAIN [ARGS]
# PRETRAIN and ARGS as for tools/benchmarks/linear_eval.sh.
source "$(dirname "${BASH_SOURCE[0]}")/benchmark_args.sh"
take_args "PARTITION CONFIG PRETRAIN [ARGS]" "$@"
# PRETRAIN is checked here, before a job is submitted.
prepare_benchmark "$CONFIG" "$PRETRAIN" ${ARGS[@]+"${ARGS[@]}"}

slurm_command train.py "$PARTITION" "linear_$NAME" "$CONFIG" \
    --work-dir="$WORK_DIR" ${ARGS[@]+"${ARGS[@]}"} --cfg-options "${INIT_OPTIONS[@]}"
"${CMD[@]}"
CHECKPOINT=$(cat "$WORK_DIR/last_checkpoint")
slurm_command test.py "$PARTITION" "linear_test_$NAME" "$CONFIG" \
    "$CHECKPOINT" --work-dir "$WORK_DIR" --out "$WORK_DIR/linear_eval.json" \
    ${TEST_ARGS[@]+"${TEST_ARGS[@]}"}
"${CMD[@]}"
echo "Linear probe of $PRETRAIN ($CHECKPOINT): $(cat "$WORK_DIR/linear_eval.json")"
