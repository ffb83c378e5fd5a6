# Shared by linear_eval.sh, slurm_linear_eval.sh and
# mmdetection/{,slurm_}train_det.sh: sources tools/launchers.sh, sets PYTHON
# (tools/launchers.sh's repo_python) and defines the functions below.
source "$(dirname "${BASH_SOURCE[0]}")/../launchers.sh"
repo_python

# prepare_benchmark CONFIG PRETRAIN [ARGS]: set NAME (the config's), WORK_DIR
# (unless set: work_dirs/benchmarks/NAME), TEST_ARGS (split_train_args) and
# INIT_OPTIONS (pretrained_init_options).
prepare_benchmark() {
    NAME=$(basename "$1" .py)
    WORK_DIR=${WORK_DIR:-work_dirs/benchmarks/$NAME}
    split_train_args "${@:3}"
    pretrained_init_options "$1" "$2"
}

# gpus_command SCRIPT [ARGS...]: tools/SCRIPT on GPUS processes: one runs
# it directly, more through dist_command (tools/launchers.sh).
gpus_command() {
    if (( GPUS > 1 )); then
        dist_command "$1" "$GPUS" "${@:2}"
    else
        CMD=(env "PYTHONPATH=$ROOT:${PYTHONPATH:-}" "$PYTHON" "$ROOT/tools/$1" "${@:2}")
    fi
}

# pretrained_init_options CONFIG PRETRAIN: set the array INIT_OPTIONS to the
# --cfg-options KEY=VALUE that initialise CONFIG's Pretrained modules from
# PRETRAIN. Exits (before anything is launched) when PRETRAIN is of another
# kind or does not fit one of those modules.
pretrained_init_options() {
    local out
    out=$("$PYTHON" "$ROOT/tools/model_converters/pretrained_cfg_options.py" "$1" "$2")
    mapfile -t INIT_OPTIONS <<< "$out"
}

# split_train_args ARGS...: refuse --work-dir (WORK_DIR sets it) and set the
# array TEST_ARGS to the --cfg-options of ARGS, the only ones that
# tools/test.py also takes.
split_train_args() {
    TEST_ARGS=()
    local arg in_cfg_options=0
    for arg in "$@"; do
        case "$arg" in
            --work-dir|--work-dir=*)
                echo "error: set WORK_DIR instead of passing $arg" >&2
                exit 2 ;;
            --cfg-options) in_cfg_options=1; TEST_ARGS+=("$arg") ;;
            -*) in_cfg_options=0 ;;
            *) if (( in_cfg_options )); then TEST_ARGS+=("$arg"); fi ;;
        esac
    done
}
