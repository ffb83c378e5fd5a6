#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG GPUS [ARGS]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# Without CUDA, GPUS processes train on the CPU with the gloo backend.
set -euo pipefail
if (( $# < 2 )); then
    echo "usage: $0 CONFIG GPUS [ARGS]" >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
HERE=$(dirname "${BASH_SOURCE[0]}")
exec bash "$HERE/dist_launch.sh" "$HERE/train.py" "$GPUS" "$CONFIG" "${@:3}"
