"""Helpers for tests that run the command line tools in subprocesses."""
import importlib
import os
import os.path as osp
import re
import socket
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PYTHON = sys.executable


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def tool_env(**extra):
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS='1', PYTHON=PYTHON, PYTHONUNBUFFERED='1')
    env.update({k: str(v) for k, v in extra.items()})
    return env


def stderr_tail(stderr, limit=4000):
    """The tail of ``stderr`` without Python's warnings, which would push a
    crash message (e.g. an abort at exit) out of a failure report."""
    lines, skip = [], False
    for line in stderr.splitlines():
        if re.search(r'\w+Warning: ', line):
            skip = True  # the warning and its indented source line
            continue
        if skip and line.startswith('  '):
            continue
        skip = False
        lines.append(line)
    return '\n'.join(lines)[-limit:]


def load_tool(path):
    """Import the tools/ file ``path`` as a module, its folder first on
    ``sys.path`` as ``python PATH`` has it (for the modules next to it)."""
    folder = osp.join(REPO, osp.dirname(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module = importlib.import_module(osp.splitext(osp.basename(path))[0])
    assert module.__file__ == osp.join(REPO, path), module.__file__
    return module


def run_tool(args, timeout=600, check=True, **env):
    """Run ``args`` (a tools/ script and its arguments) from the repo root."""
    cmd = ['bash'] + args if args[0].endswith('.sh') else [PYTHON] + args
    proc = subprocess.run(
        cmd, cwd=REPO, env=tool_env(**env), capture_output=True, text=True,
        timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{" ".join(cmd)} exited {proc.returncode}\n'
                             f'stdout:\n{proc.stdout[-4000:]}\n'
                             f'stderr:\n{stderr_tail(proc.stderr)}')
    return proc


def write_classifier_config(path, data_root, max_epochs=2, **overrides):
    """A small ResNet classifier config on ``data_root/{train,val}``."""
    text = f'''
_base_ = [{osp.join(REPO, 'configs/_base_/default_runtime.py')!r}]
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, num_stages=4,
                  out_indices=(3, ), norm_cfg=dict(type='SyncBN')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=3, in_channels=512,
              loss=dict(type='CrossEntropyLoss')),
    data_preprocessor=dict(num_classes=3, mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True))
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=32),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=2, num_workers=0,
    dataset=dict(type='CustomDataset', data_root={data_root!r},
                 data_prefix='train', pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'))
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max={max_epochs},
                        by_epoch=True)]
train_cfg = dict(by_epoch=True, max_epochs={max_epochs})
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, max_keep_ckpts=-1))
'''
    for key, value in overrides.items():
        text += f'{key} = {value!r}\n'
    with open(path, 'w') as f:
        f.write(text)
    return str(path)
