#!/usr/bin/env bash
# Linear probe of a pretrained encoder (docs/evaluation_and_transfer.md):
# train CONFIG's classifier on the frozen backbone, then test its last
# checkpoint.
# Usage: tools/benchmarks/linear_eval.sh CONFIG PRETRAIN GPUS [ARGS]
#   PRETRAIN  a clsa_mm checkpoint (backbone.* keys) or a backbone exported
#             by tools/model_converters/extract_backbone_weights.py
#   GPUS      processes; more than 1 runs tools/dist_train.sh/dist_test.sh
#             (on the CPU with gloo when there is no GPU)
#   ARGS      passed to tools/train.py; its --cfg-options also to test.py
# Environment: WORK_DIR (default work_dirs/benchmarks/<config name>), PYTHON,
# and those of tools/dist_train.sh (NNODES, NODE_RANK, MASTER_ADDR, PORT).
source "$(dirname "${BASH_SOURCE[0]}")/benchmark_args.sh"
take_args "CONFIG PRETRAIN GPUS [ARGS]" "$@"
# model.backbone.init_cfg from PRETRAIN; refuses a file of another kind or
# one that does not fit the backbone, before training.
prepare_benchmark "$CONFIG" "$PRETRAIN" ${ARGS[@]+"${ARGS[@]}"}

gpus_command train.py "$CONFIG" --work-dir "$WORK_DIR" \
    ${ARGS[@]+"${ARGS[@]}"} --cfg-options "${INIT_OPTIONS[@]}"
"${CMD[@]}"

CHECKPOINT=$(cat "$WORK_DIR/last_checkpoint")
RESULT="$WORK_DIR/linear_eval.json"
gpus_command test.py "$CONFIG" "$CHECKPOINT" --work-dir "$WORK_DIR" \
    --out "$RESULT" ${TEST_ARGS[@]+"${TEST_ARGS[@]}"}
"${CMD[@]}"
echo "Linear probe of $PRETRAIN ($CHECKPOINT): $(cat "$RESULT")"
