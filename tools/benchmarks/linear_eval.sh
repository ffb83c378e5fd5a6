#!/usr/bin/env bash
# Linear probe of a pretrained encoder (CLSA_SPEC §5): train CONFIG's
# classifier on the frozen backbone, then test its last checkpoint.
# Usage: tools/benchmarks/linear_eval.sh CONFIG PRETRAIN GPUS [ARGS]
#   PRETRAIN  a clsa_mm checkpoint (backbone.* keys) or a backbone exported
#             by tools/model_converters/extract_backbone_weights.py
#   GPUS      processes; more than 1 runs tools/dist_train.sh/dist_test.sh
#             (on the CPU with gloo when there is no GPU)
#   ARGS      passed to tools/train.py; its --cfg-options also to test.py
# Environment: WORK_DIR (default work_dirs/benchmarks/<config name>), PYTHON,
# and those of tools/dist_train.sh (NNODES, NODE_RANK, MASTER_ADDR, PORT).
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
ARGS=("${@:4}")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python; fi
fi
export PYTHON
WORK_DIR=${WORK_DIR:-work_dirs/benchmarks/$(basename "$CONFIG" .py)}

# Only the --cfg-options of ARGS are valid for tools/test.py.
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

# model.backbone.init_cfg from PRETRAIN (refuses a file of another kind).
INIT_OPTIONS=$("$PYTHON" "$ROOT/tools/model_converters/pretrained_cfg_options.py" "$CONFIG" "$PRETRAIN")
mapfile -t INIT_OPTIONS <<< "$INIT_OPTIONS"

if (( GPUS > 1 )); then
    bash "$ROOT/tools/dist_train.sh" "$CONFIG" "$GPUS" --work-dir "$WORK_DIR" \
        ${ARGS[@]+"${ARGS[@]}"} --cfg-options "${INIT_OPTIONS[@]}"
else
    PYTHONPATH="$ROOT:${PYTHONPATH:-}" "$PYTHON" "$ROOT/tools/train.py" \
        "$CONFIG" --work-dir "$WORK_DIR" ${ARGS[@]+"${ARGS[@]}"} \
        --cfg-options "${INIT_OPTIONS[@]}"
fi

CHECKPOINT=$(cat "$WORK_DIR/last_checkpoint")
RESULT="$WORK_DIR/linear_eval.json"
if (( GPUS > 1 )); then
    bash "$ROOT/tools/dist_test.sh" "$CONFIG" "$CHECKPOINT" "$GPUS" \
        --work-dir "$WORK_DIR" --out "$RESULT" ${TEST_ARGS[@]+"${TEST_ARGS[@]}"}
else
    PYTHONPATH="$ROOT:${PYTHONPATH:-}" "$PYTHON" "$ROOT/tools/test.py" \
        "$CONFIG" "$CHECKPOINT" --work-dir "$WORK_DIR" --out "$RESULT" \
        ${TEST_ARGS[@]+"${TEST_ARGS[@]}"}
fi
echo "Linear probe of $PRETRAIN ($CHECKPOINT): $(cat "$RESULT")"
