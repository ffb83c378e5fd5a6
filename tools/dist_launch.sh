#!/usr/bin/env bash
# Shared by dist_train.sh and dist_test.sh: runs SCRIPT on GPUS processes per
# node with torchrun. Without CUDA, the processes run on the CPU (gloo).
# Usage: tools/dist_launch.sh SCRIPT GPUS [ARGS...]
# Environment: NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1),
# PORT (29500), PYTHON (default: <repo>/.venv/bin/python if present).
set -euo pipefail
SCRIPT=$1
GPUS=$2
shift 2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python; fi
fi
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}

if ! [[ "$GPUS" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: GPUS must be a positive integer, got '$GPUS'" >&2
    exit 2
fi
read -r NUM_CUDA CORES < <("$PYTHON" -c \
    'import os, torch; print(torch.cuda.device_count(), len(os.sched_getaffinity(0)))')
if (( NUM_CUDA > 0 && GPUS > NUM_CUDA )); then
    echo "error: GPUS=$GPUS but this machine has $NUM_CUDA GPU(s)" >&2
    exit 2
fi
if (( NUM_CUDA == 0 )); then
    if (( GPUS > CORES )); then
        echo "error: GPUS=$GPUS but this machine has no GPU and only $CORES CPU cores for the CPU (gloo) fallback" >&2
        exit 2
    fi
    echo "No GPU found: running $GPUS processes on the CPU with the gloo backend."
fi

PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$SCRIPT" "$@" --launcher pytorch
