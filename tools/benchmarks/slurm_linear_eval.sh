#!/usr/bin/env bash
# tools/benchmarks/linear_eval.sh on a slurm cluster: tools/slurm_train.sh,
# then tools/slurm_test.sh on the last checkpoint.
# Usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#     [WORK_DIR=...] tools/benchmarks/slurm_linear_eval.sh PARTITION CONFIG \
#     PRETRAIN [ARGS]
# PRETRAIN and ARGS as for tools/benchmarks/linear_eval.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/tools/benchmarks/benchmark_args.sh"
need_args 3 $# "PARTITION CONFIG PRETRAIN [ARGS]"
PARTITION=$1
CONFIG=$2
PRETRAIN=$3
ARGS=("${@:4}")
# PRETRAIN is checked here, before a job is submitted.
prepare_benchmark "$CONFIG" "$PRETRAIN" ${ARGS[@]+"${ARGS[@]}"}

bash "$ROOT/tools/slurm_train.sh" "$PARTITION" "linear_$NAME" "$CONFIG" \
    "$WORK_DIR" ${ARGS[@]+"${ARGS[@]}"} --cfg-options "${INIT_OPTIONS[@]}"
CHECKPOINT=$(cat "$WORK_DIR/last_checkpoint")
bash "$ROOT/tools/slurm_test.sh" "$PARTITION" "linear_test_$NAME" "$CONFIG" \
    "$CHECKPOINT" --work-dir "$WORK_DIR" --out "$WORK_DIR/linear_eval.json" \
    ${TEST_ARGS[@]+"${TEST_ARGS[@]}"}
echo "Linear probe of $PRETRAIN ($CHECKPOINT): $(cat "$WORK_DIR/linear_eval.json")"
