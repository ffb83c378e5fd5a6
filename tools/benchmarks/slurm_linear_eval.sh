#!/usr/bin/env bash
# Linear probe (CLSA_SPEC §5) on a slurm cluster: tools/slurm_train.sh, then
# tools/slurm_test.sh on the last checkpoint.
# Usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#     [WORK_DIR=...] tools/benchmarks/slurm_linear_eval.sh PARTITION CONFIG \
#     PRETRAIN [ARGS]
# PRETRAIN and ARGS as for tools/benchmarks/linear_eval.sh.
set -euo pipefail
if (( $# < 3 )); then
    echo "usage: $0 PARTITION CONFIG PRETRAIN [ARGS]" >&2
    exit 2
fi
PARTITION=$1
CONFIG=$2
PRETRAIN=$3
ARGS=("${@:4}")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PYTHON=${PYTHON:-python}
export PYTHON
NAME=$(basename "$CONFIG" .py)
WORK_DIR=${WORK_DIR:-work_dirs/benchmarks/$NAME}

TEST_ARGS=()
IN_CFG_OPTIONS=0
for ARG in ${ARGS[@]+"${ARGS[@]}"}; do
    case "$ARG" in
        --work-dir|--work-dir=*)
            echo "error: set WORK_DIR instead of passing $ARG" >&2
            exit 2 ;;
        --cfg-options) IN_CFG_OPTIONS=1; TEST_ARGS+=("$ARG") ;;
        -*) IN_CFG_OPTIONS=0 ;;
        *) if (( IN_CFG_OPTIONS )); then TEST_ARGS+=("$ARG"); fi ;;
    esac
done

INIT_OPTIONS=$("$PYTHON" "$ROOT/tools/model_converters/pretrained_cfg_options.py" "$CONFIG" "$PRETRAIN")
mapfile -t INIT_OPTIONS <<< "$INIT_OPTIONS"

bash "$ROOT/tools/slurm_train.sh" "$PARTITION" "linear_$NAME" "$CONFIG" \
    "$WORK_DIR" ${ARGS[@]+"${ARGS[@]}"} --cfg-options "${INIT_OPTIONS[@]}"
CHECKPOINT=$(cat "$WORK_DIR/last_checkpoint")
bash "$ROOT/tools/slurm_test.sh" "$PARTITION" "linear_test_$NAME" "$CONFIG" \
    "$CHECKPOINT" --work-dir "$WORK_DIR" --out "$WORK_DIR/linear_eval.json" \
    ${TEST_ARGS[@]+"${TEST_ARGS[@]}"}
echo "Linear probe of $PRETRAIN ($CHECKPOINT): $(cat "$WORK_DIR/linear_eval.json")"
