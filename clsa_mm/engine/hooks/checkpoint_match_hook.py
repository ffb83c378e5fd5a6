from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from clsa_mm.checkpoint import compare_state_dicts
from clsa_mm.checkpoint.fit import weights_for_module
from clsa_mm.registry import HOOKS


@HOOKS.register_module()
class CheckpointMatchHook(Hook):
    """Refuse ``load_from``/``--resume`` checkpoints of another model.

    MMEngine loads model weights with ``strict=False`` and only logs missing
    keys, so a checkpoint of a different model (a detector, a linear probe, a
    ResNet-18 run for a ResNet-50 config) would silently leave the model
    randomly initialised. This hook compares the checkpoint's ``state_dict``
    with the model right after loading and raises an error that names the
    checkpoint and the first mismatching keys.

    Args:
        max_listed (int): How many mismatching keys the error lists.
            Defaults to 5.
    """

    priority = 'VERY_HIGH'

    def __init__(self, max_listed: int = 5):
        self.max_listed = max_listed

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        # The checkpoint's tensors, ``module.`` stripped as MMEngine loads.
        missing, unexpected, wrong_shape = compare_state_dicts(
            model.state_dict(), weights_for_module(checkpoint))
        if not (missing or unexpected or wrong_shape):
            return
        wrong_shape = [f'{key} {got} vs {want}'
                       for key, got, want in wrong_shape]
        source = runner._load_from or 'the checkpoint'
        n = self.max_listed
        problems = []
        for name, keys in (('missing from the checkpoint', missing),
                           ('not in the model', unexpected),
                           ('with another shape (checkpoint vs model)',
                            wrong_shape)):
            if keys:
                more = f' and {len(keys) - n} more' if len(keys) > n else ''
                problems.append(f'{len(keys)} keys {name}: '
                                f'{", ".join(keys[:n])}{more}')
        raise RuntimeError(
            f'Checkpoint {source} does not fit the model '
            f'{type(model).__name__} of this config: ' + '; '.join(problems) +
            '. Is it a checkpoint of another model or config? To initialise '
            'only the backbone, use model.backbone.init_cfg instead.')
