"""Time one training iteration of CLSA-X against its base method X.

A training iteration here is forward + backward + SGD update on synthetic,
already normalised tensors (no data loading, no preprocessing). Both models
have the same backbone, projector (and queue or predictor) and batch; the
base method gets its own views, CLSA-X the same plus its strong view(s).
The methods are the entries of :data:`METHODS` (``--method``):

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
import queue
import resource
import statistics
import time
from typing import Callable, Dict, List, Optional, Tuple

import psutil
import torch
from mmengine.logging import MessageHub
from mmpretrain.models import BYOL, MoCo, MoCoV3, SimCLR
from mmpretrain.structures import DataSample

from clsa_mm.models import BYOLDDM, CLSA, MoCoV3DDM, SimCLRDDM

MIB = 2**20
SINGLE_CROP = dict(weak=(224, ), strong=(96, ))
MULTI_CROP = dict(weak=(224, 192, 160, 128, 96),
                  strong=(224, 192, 160, 128, 96))
DEPTHS = dict(resnet18=18, resnet34=34, resnet50=50, resnet101=101)

# A builder takes the parsed arguments and ``ddm`` (False: the base method
# X, True: CLSA-X) and returns the model and the sizes of its views.
Builder = Callable[[argparse.Namespace, bool], Tuple[torch.nn.Module,
                                                     List[int]]]
# --method name -> (label of X, label of CLSA-X, builder).
METHODS: Dict[str, Tuple[str, str, Builder]] = {}


def method(name: str, label: str,
           clsa_label: Optional[str] = None) -> Callable[[Builder], Builder]:
    """Register a builder under ``--method name``; X is called ``label``,
    CLSA-X ``clsa_label`` (default ``'CLSA-' + label``)."""

    def register(builder: Builder) -> Builder:
        METHODS[name] = (label, clsa_label or f'CLSA-{label}', builder)
        return builder

    return register


def backbone(args) -> Tuple[dict, int]:
    """The ResNet config of ``--arch`` and its output channels."""
    depth = DEPTHS[args.arch]
    cfg = dict(type='ResNet', depth=depth, norm_cfg=dict(type='BN'),
               zero_init_residual=False)
    return cfg, 2048 if depth >= 50 else 512


def strong_sizes(args) -> Tuple[int, ...]:
    return (MULTI_CROP if args.multi_crop else SINGLE_CROP)['strong']


def two_crops(args, ddm: bool, base_cls, ddm_cls, t2: float, **common):
    """``base_cls`` (X) on two 224 crops or ``ddm_cls`` (X-DDM with T2
    ``t2``) on the same plus the strong view(s), both from ``common``."""
    if not ddm:
        return base_cls(**common), [224, 224]
    strong = strong_sizes(args)
    return (ddm_cls(num_strong_views=len(strong),
                    ddm_head=dict(type='DDMHead', ddm_temperature=t2),
                    **common), [224, 224, *strong])


def _mocov2(args, ddm: bool, symmetric: bool = False):
    cfg, channels = backbone(args)
    common = dict(
        backbone=cfg,
        neck=dict(type='MoCoV2Neck', in_channels=channels,
                  hid_channels=channels, out_channels=128,
                  with_avg_pool=True),
        queue_len=65536, feat_dim=128, momentum=0.001)
    if not ddm:
        return MoCo(head=dict(type='ContrastiveHead',
                              loss=dict(type='CrossEntropyLoss'),
                              temperature=0.2), **common), [224, 224]
    crops = MULTI_CROP if args.multi_crop else SINGLE_CROP
    model = CLSA(head=dict(type='DDMHead'),
                 num_weak_views=len(crops['weak']),
                 num_strong_views=len(crops['strong']), symmetric=symmetric,
                 **common)
    return model, [224, *crops['weak'], *crops['strong']]


@method('mocov2', 'MoCo v2')
def mocov2(args, ddm: bool):
    return _mocov2(args, ddm)


@method('mocov2-sym', 'MoCo v2', 'CLSA-MoCo v2 sym')
def mocov2_sym(args, ddm: bool):
    return _mocov2(args, ddm, symmetric=True)


@method('mocov3', 'MoCo v3')
def mocov3(args, ddm: bool):
    """mmpretrain's MoCo v3 ResNet recipe (4096-d hidden, 256-d output)."""
    cfg, channels = backbone(args)
    neck = dict(type='NonLinearNeck', in_channels=channels,
                hid_channels=4096, out_channels=256, num_layers=2,
                with_bias=False, with_last_bn=True,
                with_last_bn_affine=False, with_last_bias=False,
                with_avg_pool=True)
    head = dict(
        type='MoCoV3Head',
        predictor=dict(type='NonLinearNeck', in_channels=256,
                       hid_channels=4096, out_channels=256, num_layers=2,
                       with_bias=False, with_last_bn=False,
                       with_last_bn_affine=False, with_last_bias=False,
                       with_avg_pool=False),
        loss=dict(type='CrossEntropyLoss', loss_weight=2 * 1.0),
        temperature=1.0)
    return two_crops(args, ddm, MoCoV3, MoCoV3DDM, 0.2, backbone=cfg,
                     neck=neck, head=head, base_momentum=0.01)


@method('simclr', 'SimCLR')
def simclr(args, ddm: bool):
    """mmpretrain's SimCLR recipe (2048-d hidden, 128-d output, T = 0.1)."""
    cfg, channels = backbone(args)
    return two_crops(
        args, ddm, SimCLR, SimCLRDDM, 0.1,
        backbone=cfg,
        neck=dict(type='NonLinearNeck', in_channels=channels,
                  hid_channels=2048, out_channels=128, num_layers=2,
                  with_avg_pool=True, norm_cfg=dict(type='BN1d')),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                  temperature=0.1))


@method('byol', 'BYOL')
def byol(args, ddm: bool):
    """mmpretrain's BYOL recipe (4096-d hidden, 256-d output); BYOL-DDM
    with its DDM queue of 65536 target projections."""
    cfg, channels = backbone(args)
    mlp = dict(type='NonLinearNeck', hid_channels=4096, out_channels=256,
               num_layers=2, with_bias=True, with_last_bn=False,
               norm_cfg=dict(type='BN1d'))
    # BYOL-DDM's queue must hold whole steps of 2 x batch target
    # projections.
    queue = dict(queue_len=65536 // (2 * args.batch) * 2 * args.batch)
    return two_crops(
        args, ddm, BYOL, BYOLDDM, 0.2,
        backbone=cfg,
        neck=dict(mlp, in_channels=channels, with_avg_pool=True),
        head=dict(type='LatentPredictHead',
                  predictor=dict(mlp, in_channels=256, with_avg_pool=False),
                  loss=dict(type='CosineSimilarityLoss')),
        base_momentum=0.01,
        **(queue if ddm else {}))


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
    builder = METHODS[args.method][2]
    model, sizes = builder(args, name == 'clsa' or args.online_probe)
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
