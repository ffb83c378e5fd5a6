#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT GPUS [ARGS]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# Without CUDA, GPUS processes run on the CPU with the gloo backend.
set -euo pipefail
if (( $# < 3 )); then
    echo "usage: $0 CONFIG CHECKPOINT GPUS [ARGS]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
HERE=$(dirname "${BASH_SOURCE[0]}")
exec bash "$HERE/dist_launch.sh" "$HERE/test.py" "$GPUS" "$CONFIG" "$CHECKPOINT" "${@:4}"
