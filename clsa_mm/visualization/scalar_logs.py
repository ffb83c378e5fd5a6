import glob
import json
import os.path as osp
from typing import List, Tuple

from mmengine.logging import print_log

# Bookkeeping values MMEngine writes into every training log line.
BOOKKEEPING_KEYS = ('step', 'epoch', 'iter', 'time', 'data_time', 'memory')


def _read_json_lines(path: str) -> List[dict]:
    records = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                # A run killed while logging leaves a truncated last line.
                print_log(f'{path}:{lineno}: skipping a line that is not '
                          'JSON (interrupted write?)', logger='current')
    return records


def _strip_mode(record: dict, mode: str) -> dict:
    # `log_processor.log_with_hierarchy=True` prefixes keys with the mode.
    prefix = f'{mode}/'
    return {
        k[len(prefix):] if k.startswith(prefix) else k: v
        for k, v in record.items()
    }


def _is_train(record: dict) -> bool:
    return any(k in record for k in ('lr', 'train/lr', 'iter')) or any(
        'loss' in k for k in record)


def load_scalar_logs(work_dir: str) -> Tuple[List[dict], List[dict]]:
    """Read the scalars MMEngine logged in every run of a work dir.

    Each run writes ``<work_dir>/<timestamp>/vis_data/scalars.json``, one JSON
    object per logged training iteration or validation epoch. The runs are
    read in time order; a run resumed from a checkpoint replaces the records
    of earlier runs from its first step on, so the result is the history of
    the training that led to the latest state.

    Args:
        work_dir (str): The work dir of the training runs.

    Returns:
        tuple[list[dict], list[dict]]: The training records (``step`` is the
        iteration) and the validation records (``step`` is the epoch or
        iteration of the evaluation), each sorted by ``step``.
    """
    runs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data')))
    if not runs:
        raise FileNotFoundError(
            f'No MMEngine logs in {work_dir}: expected '
            f'{work_dir}/<timestamp>/vis_data/scalars.json')
    train, val = [], []
    for vis_dir in runs:
        path = osp.join(vis_dir, 'scalars.json')
        if not osp.isfile(path):
            # Older layouts only have the LoggerHook's <timestamp>.json.
            candidates = sorted(glob.glob(osp.join(vis_dir, '*.json')))
            if not candidates:
                continue
            path = candidates[0]
        run_train, run_val = [], []
        for record in _read_json_lines(path):
            if _is_train(record):
                run_train.append(_strip_mode(record, 'train'))
            else:
                run_val.append(_strip_mode(record, 'val'))
        for old, new in ((train, run_train), (val, run_val)):
            if new:
                first = min(r['step'] for r in new)
                old[:] = [r for r in old if r['step'] < first] + new
    train.sort(key=lambda r: r['step'])
    val.sort(key=lambda r: r['step'])
    return train, val
