"""Export the encoder f of a clsa_mm checkpoint for downstream tasks.

The default layout (``dict(state_dict=..., meta=...)``, keys as
mmpretrain/mmdet ResNets name them) is what ``init_cfg=dict(type=
'Pretrained', checkpoint=OUT)`` loads; ``--to torchvision`` writes the bare
state dict that ``torchvision.models.resnet50().load_state_dict(sd,
strict=False)`` loads with only ``fc.*`` missing; ``--to detectron2`` writes
the pickle (``stem.conv1.*``, ``res2.0.conv1.norm.*`` ..., numpy arrays,
``matching_heuristics: True``) that detectron2 loads for a ResNet-50.
"""
import argparse
import pickle

from clsa_mm.checkpoint import (BACKBONE, CLSA_MM, backbone_checkpoint,
                                detectron2_checkpoint,
                                load_checkpoint_of_kind, save_checkpoint)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Extract the backbone (encoder f) of a clsa_mm '
        'checkpoint')
    parser.add_argument(
        'input',
        help='clsa_mm checkpoint (backbone.* keys); for --to detectron2 '
        'also an exported ResNet-50 backbone')
    parser.add_argument('output', help='file to write')
    parser.add_argument(
        '--to',
        choices=['mmpretrain', 'torchvision', 'detectron2'],
        default='mmpretrain',
        help='key layout of the output (mmpretrain also serves mmdet; '
        'detectron2 writes a .pkl for a ResNet-50)')
    parser.add_argument(
        '--force', action='store_true', help='overwrite OUTPUT if it exists')
    return parser.parse_args()


def main():
    args = parse_args()
    if args.to == 'detectron2':
        checkpoint, _ = load_checkpoint_of_kind(args.input,
                                                (CLSA_MM, BACKBONE))
        out = detectron2_checkpoint(checkpoint, args.input)
        save_checkpoint(out, args.output, force=args.force,
                        dumps=pickle.dumps)
        print(f'Wrote {len(out["model"])} backbone arrays (detectron2 '
              f'layout) to {args.output}')
        return
    checkpoint, _ = load_checkpoint_of_kind(args.input, (CLSA_MM, ))
    out = backbone_checkpoint(checkpoint, args.input, layout=args.to)
    save_checkpoint(out, args.output, force=args.force)
    num = len(out.get('state_dict', out))
    print(f'Wrote {num} backbone tensors ({args.to} layout) to '
          f'{args.output}')


if __name__ == '__main__':
    main()
