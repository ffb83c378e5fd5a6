"""Convert a checkpoint of the authors' CLSA code into a clsa_mm one.

The authors' checkpoints (torchvision ResNet, DDP-wrapped) hold
``module.encoder_q.*`` (with the MLP head ``fc.0``/``fc.2``),
``module.encoder_k.*``, ``module.queue`` and ``module.queue_ptr``. The result
has the keys of clsa_mm's ``CLSA`` model (``backbone.*``, ``neck.mlp.*``,
``encoder_k.module.{0,1}.*``, ``encoder_k.steps``, ``queue``, ``queue_ptr``)
and can be evaluated, exported or used as ``load_from``.
"""
import argparse

from clsa_mm.checkpoint import (REFERENCE, convert_reference_clsa,
                                load_checkpoint_of_kind, save_checkpoint)


def parse_args():
    parser = argparse.ArgumentParser(
        description="Convert an authors' CLSA checkpoint to clsa_mm")
    parser.add_argument('input', help="checkpoint of the authors' CLSA code")
    parser.add_argument('output', help='clsa_mm checkpoint to write')
    parser.add_argument(
        '--force', action='store_true', help='overwrite OUTPUT if it exists')
    return parser.parse_args()


def main():
    args = parse_args()
    checkpoint, _ = load_checkpoint_of_kind(args.input, (REFERENCE, ))
    out = convert_reference_clsa(checkpoint, args.input)
    save_checkpoint(out, args.output, force=args.force)
    print(f'Wrote {len(out["state_dict"])} tensors to {args.output}')


if __name__ == '__main__':
    main()
