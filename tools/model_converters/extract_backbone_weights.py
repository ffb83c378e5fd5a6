"""Export the encoder f of a clsa_mm checkpoint for downstream tasks.

The default layout (``dict(state_dict=..., meta=...)``, keys as
mmpretrain/mmdet ResNets name them) is what ``init_cfg=dict(type=
'Pretrained', checkpoint=OUT)`` loads; ``--to torchvision`` writes the bare
state dict that ``torchvision.models.resnet50().load_state_dict(sd,
strict=False)`` loads with only ``fc.*`` missing.
"""
import argparse

from clsa_mm.evaluation import (CLSA_MM, backbone_checkpoint,
                                load_checkpoint_of_kind, save_checkpoint)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Extract the backbone (encoder f) of a clsa_mm '
        'checkpoint')
    parser.add_argument('input', help='clsa_mm checkpoint (backbone.* keys)')
    parser.add_argument('output', help='file to write')
    parser.add_argument(
        '--to',
        choices=['mmpretrain', 'torchvision'],
        default='mmpretrain',
        help='key layout of the output (mmpretrain also serves mmdet)')
    parser.add_argument(
        '--force', action='store_true', help='overwrite OUTPUT if it exists')
    return parser.parse_args()


def main():
    args = parse_args()
    checkpoint, _ = load_checkpoint_of_kind(args.input, (CLSA_MM, ))
    out = backbone_checkpoint(checkpoint, args.input, layout=args.to)
    save_checkpoint(out, args.output, force=args.force)
    num = len(out.get('state_dict', out))
    print(f'Wrote {num} backbone tensors ({args.to} layout) to '
          f'{args.output}')


if __name__ == '__main__':
    main()
