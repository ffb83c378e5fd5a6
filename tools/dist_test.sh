#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT GPUS [ARGS]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# Without CUDA, GPUS processes run on the CPU with the gloo backend.
source "$(dirname "${BASH_SOURCE[0]}")/launchers.sh"
take_args "CONFIG CHECKPOINT GPUS [ARGS]" "$@"
dist_command test.py "$GPUS" "$CONFIG" "$CHECKPOINT" ${ARGS[@]+"${ARGS[@]}"}
exec "${CMD[@]}"
