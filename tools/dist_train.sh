#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG GPUS [ARGS]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# Without CUDA, GPUS processes train on the CPU with the gloo backend.
source "$(dirname "${BASH_SOURCE[0]}")/launchers.sh"
take_args "CONFIG GPUS [ARGS]" "$@"
dist_command train.py "$GPUS" "$CONFIG" ${ARGS[@]+"${ARGS[@]}"}
exec "${CMD[@]}"
