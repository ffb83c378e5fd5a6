"""Time one training iteration of CLSA against mmpretrain's MoCo v2.

A training iteration here is forward + backward + SGD update on synthetic,
already normalised tensors (no data loading, no preprocessing). Both models
have the same backbone, projector, queue (65536) and batch; MoCo v2 gets its
two 224 views, CLSA its key, weak and strong views (single-crop: 224, 224,
96; multi-crop: 224, 5 weak and 5 strong at 224/192/160/128/96).

Timing: both models live in one process and their iterations alternate, so
that a busy (shared) machine slows both alike; a run's time is the median
of its ``--iters`` iteration times, and the medians over ``--runs`` runs are
compared. Peak memory: each model in a forked process of its own, over the
warm-up and one more iteration: on CUDA ``torch.cuda.max_memory_allocated``,
on the CPU the growth of the peak RSS (``getrusage``) over the RSS before
the model was built (psutil).

Example::

    python tools/benchmarks/bench_step.py --arch resnet18 --batch 8 \\
        --device cpu --iters 5
"""
import argparse
import multiprocessing as mp
import queue
import resource
import statistics
import time

import psutil
import torch
from mmpretrain.models import MoCo

from clsa_mm.models import CLSA

MIB = 2**20
SINGLE_CROP = dict(weak=(224, ), strong=(96, ))
MULTI_CROP = dict(weak=(224, 192, 160, 128, 96),
                  strong=(224, 192, 160, 128, 96))
DEPTHS = dict(resnet18=18, resnet34=34, resnet50=50, resnet101=101)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arch', choices=sorted(DEPTHS), default='resnet50')
    parser.add_argument('--batch', type=int, default=32,
                        help='batch size (per process)')
    parser.add_argument('--multi-crop', action='store_true',
                        help='CLSA with 5 weak + 5 strong views')
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
    return parser.parse_args()


def build(name, args):
    depth = DEPTHS[args.arch]
    channels = 2048 if depth >= 50 else 512
    common = dict(
        backbone=dict(type='ResNet', depth=depth, norm_cfg=dict(type='BN'),
                      zero_init_residual=False),
        neck=dict(type='MoCoV2Neck', in_channels=channels,
                  hid_channels=channels, out_channels=128,
                  with_avg_pool=True),
        queue_len=65536, feat_dim=128, momentum=0.001)
    if name == 'moco':
        model = MoCo(head=dict(type='ContrastiveHead',
                               loss=dict(type='CrossEntropyLoss'),
                               temperature=0.2), **common)
        sizes = [224, 224]
    else:
        crops = MULTI_CROP if args.multi_crop else SINGLE_CROP
        model = CLSA(head=dict(type='DDMHead'),
                     num_weak_views=len(crops['weak']),
                     channels_last=args.channels_last, **common)
        sizes = [224, *crops['weak'], *crops['strong']]
    model = model.to(args.device).train()
    fmt = (torch.channels_last
           if args.channels_last else torch.contiguous_format)
    if args.channels_last:
        model = model.to(memory_format=fmt)
    inputs = [torch.randn(args.batch, 3, s, s, device=args.device)
              .contiguous(memory_format=fmt) for s in sizes]
    return model, inputs


class Stepper:
    """One model, its SGD optimizer and its synthetic views."""

    def __init__(self, name, args):
        torch.manual_seed(0)
        self.device = torch.device(args.device)
        self.model, self.inputs = build(name, args)
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
            losses = self.model.loss(self.inputs, None)
        loss = sum(losses.values())
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
    names = ('clsa', 'moco')
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
    print(f'\n{args.arch}, batch {args.batch}, {crop}, device '
          f'{args.device}, amp {args.amp}, channels_last '
          f'{args.channels_last}, {args.iters} iters x {args.runs} runs')
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, label in (('clsa', 'CLSA'), ('moco', 'MoCo v2')):
        print(f'{label:8s} median {med[name] * 1000:8.1f} ms/iter  '
              f'peak {mems[name]}')
    print(f'ratio CLSA / MoCo v2: {med["clsa"] / med["moco"]:.3f}')


if __name__ == '__main__':
    main()
