#!/usr/bin/env bash
# tools/benchmarks/mmdetection/train_det.sh on a slurm cluster.
# Usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#     [WORK_DIR=...] tools/benchmarks/mmdetection/slurm_train_det.sh \
#     PARTITION CONFIG PRETRAIN [ARGS]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
source "$ROOT/tools/benchmarks/benchmark_args.sh"
need_args 3 $# "PARTITION CONFIG PRETRAIN [ARGS]"
PARTITION=$1
CONFIG=$2
PRETRAIN=$3
# PRETRAIN is checked here, before a job is submitted.
prepare_benchmark "$CONFIG" "$PRETRAIN" "${@:4}"

exec bash "$ROOT/tools/slurm_train.sh" "$PARTITION" "det_$NAME" "$CONFIG" \
    "$WORK_DIR" "${@:4}" --cfg-options "${INIT_OPTIONS[@]}"
