"""Time one training iteration of CLSA-X against its base method X.

A training iteration here is forward + backward + SGD update on synthetic,
already normalised tensors (no data loading, no preprocessing). Both models
have the same backbone, projector (and queue or predictor) and batch; the
base method gets its own views, CLSA-X the same plus its strong view(s).
The methods are the entries of :data:`METHODS` (``--method``); each pairs
mmpretrain's recipe config of X with this repository's config of CLSA-X,
both shrunk to ``--arch`` by :func:`clsa_mm.utils.shrink_config` (the
neck's input follows the backbone, the other widths are the recipe's):

- ``mocov2``: CLSA against mmpretrain's MoCo v2 (queue 65536); MoCo v2
  gets its two 224 views, CLSA its key, weak and strong views
  (single-crop: 224, 224, 96; multi-crop: 224, 5 weak and 5 strong at
  224/192/160/128/96).
- ``mocov2-sym``: CLSA with ``symmetric=True`` against MoCo v2.
- ``mocov3``: MoCoV3DDM against mmpretrain's MoCoV3 (two 224 crops, plus
  one 96 strong view; multi-crop: 5 strong views).
- ``simclr``, ``byol``: SimCLRDDM / BYOLDDM against mmpretrain's SimCLR /
  BYOL (two 224 crops, plus the strong view(s) as for ``mocov3``).

With ``--online-probe`` the two models are CLSA-X with an online linear
probe (1000 classes, :class:`~clsa_mm.models.heads.OnlineProbeHead`) and
CLSA-X without it: the probe's cost per step.

Timing: both models live in one process and their iterations alternate, so
that a busy (shared) machine slows both alike; a run's time is the median
of its ``--iters`` iteration times, and the medians over ``--runs`` runs are
compared. Peak memory: each model in a forked process of its own, over the
warm-up and one more iteration: on CUDA ``torch.cuda.max_memory_allocated``,
on the CPU the growth of the peak RSS (``getrusage``) over the RSS before
the model was built (psutil).

Example::

    python tools/benchmarks/bench_step.py --method mocov3 --arch resnet18 \\
        --batch 8 --device cpu --iters 5
"""
import argparse
import multiprocessing as mp
import os.path as osp
import queue
import resource
import statistics
import time
from typing import Dict, List, Tuple

import psutil
import torch
from mmengine.hub import get_config
from mmengine.logging import MessageHub
from mmengine.registry import MODELS, DefaultScope
from mmpretrain.structures import DataSample

from clsa_mm.utils import load_config, register_all_modules, shrink_config

MIB = 2**20
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SINGLE_CROP = dict(weak=(224, ), strong=(96, ))
MULTI_CROP = dict(weak=(224, 192, 160, 128, 96),
                  strong=(224, 192, 160, 128, 96))
DEPTHS = dict(resnet18=18, resnet34=34, resnet50=50, resnet101=101)

MOCOV2 = 'mmpretrain::mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py'
# --method name -> (label of X, label of CLSA-X, config of X, config of
# CLSA-X): X is mmpretrain's recipe, CLSA-X this repository's.
METHODS: Dict[str, Tuple[str, str, str, str]] = {
    'mocov2': ('MoCo v2', 'CLSA-MoCo v2', MOCOV2,
               'configs/clsa/r50_8xb32_200e.py'),
    'mocov2-sym': ('MoCo v2', 'CLSA-MoCo v2 sym', MOCOV2,
                   'configs/clsa/r50_8xb32_200e-sym.py'),
    'mocov3': ('MoCo v3', 'CLSA-MoCo v3',
               'mmpretrain::mocov3/mocov3_resnet50_8xb512-amp-coslr-100e_in1k'
               '.py',
               'configs/clsa/mocov3-ddm_r50_8xb512-amp-coslr-100e_in1k.py'),
    'simclr': ('SimCLR', 'CLSA-SimCLR',
               'mmpretrain::simclr/simclr_resnet50_16xb256-coslr-200e_in1k.py',
               'configs/clsa/simclr-ddm_r50_16xb256-coslr-200e_in1k.py'),
    'byol': ('BYOL', 'CLSA-BYOL',
             'mmpretrain::byol/byol_resnet50_16xb256-coslr-200e_in1k.py',
             'configs/clsa/byol-ddm_r50_16xb256-coslr-200e_in1k.py'),
}


def read_config(path):
    """An ``mmpretrain::`` config or one of this repository."""
    if path.startswith('mmpretrain::'):
        register_all_modules(init_default_scope=False)
        return get_config(path)
    return load_config(osp.join(REPO, path))


def build_model(args, ddm: bool) -> Tuple[torch.nn.Module, List[int]]:
    """X (``ddm=False``) or CLSA-X of ``args.method`` at ``args.arch``,
    and the sizes of the views it takes.

    The recipes' configs shrunk to ``--arch`` by
    :func:`clsa_mm.utils.shrink_config` (the neck's input follows the
    backbone; hidden and output widths are the recipe's). With
    ``--multi-crop`` CLSA-X takes 5 strong views (CLSA also 5 weak ones).
    In one process SyncBN normalises over the local batch, as BN does.
    """
    cfg = read_config(METHODS[args.method][3 if ddm else 2])
    queue_len = cfg.model.get('queue_len')
    if queue_len:
        # A queue holds whole steps: of batch keys (MoCo, CLSA) or of 2 x
        # batch target projections (BYOL-DDM).
        keys = 2 * args.batch
        queue_len = queue_len // keys * keys
    shrink_config(cfg, depth=DEPTHS[args.arch], queue_len=queue_len)
    if not ddm:
        sizes = [224, 224]
    else:
        crops = MULTI_CROP if args.multi_crop else SINGLE_CROP
        cfg.model.num_strong_views = len(crops['strong'])
        weak = (224, )
        if 'num_weak_views' in cfg.model:  # CLSA: the key, then its queries
            cfg.model.num_weak_views = len(crops['weak'])
            weak = crops['weak']
        sizes = [224, *weak, *crops['strong']]
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'clsa_mm')):
        return MODELS.build(cfg.model), sizes


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--method', choices=sorted(METHODS),
                        default='mocov2',
                        help='the base method X (CLSA-X against X)')
    parser.add_argument('--arch', choices=sorted(DEPTHS), default='resnet50')
    parser.add_argument('--batch', type=int, default=32,
                        help='batch size (per process)')
    parser.add_argument('--multi-crop', action='store_true',
                        help='5 strong views (and 5 weak for MoCo v2)')
    parser.add_argument('--amp', action='store_true',
                        help='bf16 autocast (fp16 where bf16 is missing)')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--device', default='cuda' if
                        torch.cuda.is_available() else 'cpu')
    parser.add_argument('--iters', type=int, default=10,
                        help='timed iterations per run')
    parser.add_argument('--warmup', type=int, default=2,
                        help='untimed iterations before each run')
    parser.add_argument('--runs', type=int, default=3,
                        help='runs per model; the median is reported')
    parser.add_argument('--online-probe', action='store_true',
                        help='time CLSA-X with an online linear probe (1000 '
                        'classes) against CLSA-X')
    return parser.parse_args()


def build(name, args):
    """``name`` is ``'clsa'`` (CLSA-X) or ``'base'`` (X)."""
    model, sizes = build_model(args, name == 'clsa' or args.online_probe)
    if args.online_probe and name == 'clsa':
        model.init_online_probe(dict(num_classes=1000))
    model = model.to(args.device).train()
    fmt = (torch.channels_last
           if args.channels_last else torch.contiguous_format)
    if args.channels_last:
        model = model.to(memory_format=fmt)
    inputs = [torch.randn(args.batch, 3, s, s, device=args.device)
              .contiguous(memory_format=fmt) for s in sizes]
    samples = [DataSample().set_gt_label(i % 1000) for i in range(args.batch)]
    return model, inputs, samples


class Stepper:
    """One model, its SGD optimizer and its synthetic views."""

    def __init__(self, name, args):
        torch.manual_seed(0)
        self.device = torch.device(args.device)
        self.model, self.inputs, self.samples = build(name, args)
        self.optim = torch.optim.SGD(
            [p for p in self.model.parameters() if p.requires_grad],
            lr=0.03, momentum=0.9, weight_decay=1e-4)
        self.amp = args.amp
        self.amp_dtype = torch.bfloat16
        if self.device.type == 'cuda' and not torch.cuda.is_bf16_supported():
            self.amp_dtype = torch.float16

    def sync(self):
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)

    def step(self):
        """One iteration; returns its wall time in seconds."""
        self.sync()
        start = time.perf_counter()
        with torch.autocast(self.device.type, dtype=self.amp_dtype,
                            enabled=self.amp):
            losses = self.model.loss(self.inputs, self.samples)
        loss = sum(v for k, v in losses.items() if 'loss' in k)
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        self.optim.step()
        self.sync()
        return time.perf_counter() - start


def peak_memory(name, args, results):
    """Peak memory of model ``name`` over warm-up + 1 step (own process)."""
    rss0 = psutil.Process().memory_info().rss
    stepper = Stepper(name, args)
    for _ in range(args.warmup + 1):
        stepper.step()
    if stepper.device.type == 'cuda':
        peak = torch.cuda.max_memory_allocated(stepper.device)
        results.put((name, f'{peak / MIB:.0f} MiB max_memory_allocated'))
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        results.put((name, f'{(peak - rss0) / MIB:.0f} MiB peak RSS growth'))


def main():
    args = parse_args()
    # CosineEMA (MoCo v3, BYOL) reads the schedule length from the hub.
    MessageHub.get_current_instance().update_info(
        'max_iters', 1 + args.warmup * 2 + args.iters * args.runs)
    names = ('clsa', 'base')
    # Memory: one forked child per model, before this process touches the
    # accelerator.
    ctx = mp.get_context('fork')
    results = ctx.Queue()
    mems = {}
    for name in names:
        proc = ctx.Process(target=peak_memory, args=(name, args, results))
        proc.start()
        while True:
            try:
                got, mem = results.get(timeout=1)
                break
            except queue.Empty:
                if not proc.is_alive():
                    raise SystemExit(f'{name} failed (exit code '
                                     f'{proc.exitcode})') from None
        proc.join()
        mems[got] = mem

    # Time: both models in this process, their iterations alternating, so
    # that a busy machine slows both alike.
    steppers = {name: Stepper(name, args) for name in names}
    for _ in range(args.warmup):
        for stepper in steppers.values():
            stepper.step()
    times = {name: [] for name in names}
    for run in range(args.runs):
        run_times = {name: [] for name in names}
        for _ in range(args.iters):
            for name, stepper in steppers.items():
                run_times[name].append(stepper.step())
        for name in names:
            times[name].append(statistics.median(run_times[name]))
        print(f'run {run + 1}: ' + ', '.join(
            f'{name} {times[name][-1] * 1000:.1f} ms/iter' for name in names),
            flush=True)

    crop = 'multi-crop' if args.multi_crop else 'single-crop'
    print(f'\n{args.method}: {args.arch}, batch {args.batch}, {crop}, '
          f'device {args.device}, amp {args.amp}, channels_last '
          f'{args.channels_last}, {args.iters} iters x {args.runs} runs')
    med = {k: statistics.median(v) for k, v in times.items()}
    base, clsa = METHODS[args.method][:2]
    if args.online_probe:
        base, clsa = clsa, f'{clsa} + online probe'
    width = max(len(clsa), len(base))
    for name, label in (('clsa', clsa), ('base', base)):
        print(f'{label:{width}s} median {med[name] * 1000:8.1f} ms/iter  '
              f'peak {mems[name]}')
    print(f'ratio {clsa} / {base}: {med["clsa"] / med["base"]:.3f}')


if __name__ == '__main__':
    main()
