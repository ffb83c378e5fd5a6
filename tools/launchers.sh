# Sourced by the shell tools of tools/ (the benchmark scripts through
# tools/benchmarks/benchmark_args.sh): strict mode, ROOT (the repository
# root) and the functions below. The commands are set in the array CMD, so
# that a script can exec them.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# take_args "NAME... [ARGS]" "$@": exit 2 with "usage: SCRIPT NAME... [ARGS]"
# unless each NAME gets a value; set each NAME to its value and the array
# ARGS to the rest. A NAME of GPUS must be a positive integer.
take_args() {
    local usage=$1 name
    local -a names
    read -ra names <<< "${usage%%\[*}"
    shift
    if (( $# < ${#names[@]} )); then
        echo "usage: $0 $usage" >&2
        exit 2
    fi
    for name in "${names[@]}"; do
        printf -v "$name" '%s' "$1"
        shift
    done
    ARGS=("$@")
    if [[ " ${names[*]} " == *" GPUS "* && ! "$GPUS" =~ ^[1-9][0-9]*$ ]]; then
        echo "error: GPUS must be a positive integer, got '$GPUS'" >&2
        exit 2
    fi
}

# repo_python: unless PYTHON is set, set it to the repository's
# .venv/bin/python if there is one, else python; export it.
repo_python() {
    if [[ -z "${PYTHON:-}" ]]; then
        if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python; fi
    fi
    export PYTHON
}

# dist_command SCRIPT GPUS [ARGS...]: torchrun of tools/SCRIPT on GPUS
# processes per node (on the CPU with gloo without CUDA). Environment:
# NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1), PORT (29500), PYTHON.
dist_command() {
    local script=$1 gpus=$2 num_cuda cores
    shift 2
    repo_python
    read -r num_cuda cores < <("$PYTHON" -c \
        'import os, torch; print(torch.cuda.device_count(), len(os.sched_getaffinity(0)))')
    if (( num_cuda > 0 && gpus > num_cuda )); then
        echo "error: GPUS=$gpus but this machine has $num_cuda GPU(s)" >&2
        exit 2
    fi
    if (( num_cuda == 0 )); then
        if (( gpus > cores )); then
            echo "error: GPUS=$gpus but this machine has no GPU and only $cores CPU cores for the CPU (gloo) fallback" >&2
            exit 2
        fi
        echo "No GPU found: running $gpus processes on the CPU with the gloo backend."
    fi
    CMD=(env "PYTHONPATH=$ROOT:${PYTHONPATH:-}" "$PYTHON" -m torch.distributed.run
        --nnodes="${NNODES:-1}"
        --node_rank="${NODE_RANK:-0}"
        --master_addr="${MASTER_ADDR:-127.0.0.1}"
        --nproc_per_node="$gpus"
        --master_port="${PORT:-29500}"
        "$ROOT/tools/$script" "$@" --launcher pytorch)
}

# slurm_command SCRIPT PARTITION JOB_NAME [ARGS...]: srun of tools/SCRIPT.
# Environment: GPUS (8), GPUS_PER_NODE (8), CPUS_PER_TASK (5), SRUN_ARGS,
# PYTHON (python).
slurm_command() {
    local script=$1 partition=$2 job_name=$3
    shift 3
    # shellcheck disable=SC2206  # SRUN_ARGS is split into words
    CMD=(env "PYTHONPATH=$ROOT:${PYTHONPATH:-}" srun -p "$partition"
        --job-name="$job_name"
        --gres=gpu:"${GPUS_PER_NODE:-8}"
        --ntasks="${GPUS:-8}"
        --ntasks-per-node="${GPUS_PER_NODE:-8}"
        --cpus-per-task="${CPUS_PER_TASK:-5}"
        --kill-on-bad-exit=1
        ${SRUN_ARGS:-}
        "${PYTHON:-python}" -u "$ROOT/tools/$script" "$@" --launcher=slurm)
}
