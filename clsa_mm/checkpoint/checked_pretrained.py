from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit, update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS

from .fit import check_fit, fit_summary, load_pretrained_file


# Replaces MMEngine's own ``Pretrained`` in its root registry, so that every
# scope (clsa_mm, mmpretrain, mmdet) of every process that imports clsa_mm
# gets it: tools/train.py, the benchmark scripts, knn_eval.py, the tests.
@WEIGHT_INITIALIZERS.register_module(name='Pretrained', force=True)
class CheckedPretrainedInit(PretrainedInit):
    """MMEngine's ``Pretrained`` init, refusing weights that do not fit.

    Before loading, :func:`clsa_mm.checkpoint.fit.check_fit` checks that
    every tensor of the module is in the file (under ``prefix``) with the
    same shape, and raises an error naming the file, the module, the first
    offending keys and what the file holds; keys the module does not take
    are ignored. After loading, one log line says what went where: ``<file>:
    318 tensors into ResNet (all of its 318), 0 missing``.

    Args:
        checkpoint (str): The file (a local path or any MMEngine scheme).
        prefix (str, optional): Load only the keys under this prefix, with
            the prefix removed. Defaults to None (every key, ``module.``
            removed).
        map_location (str): Same as :func:`torch.load`. Defaults to 'cpu'.
    """

    def __call__(self, module):
        if self.prefix is None:
            print_log(f'load model from: {self.checkpoint}', logger='current')
        else:
            print_log(f'load {self.prefix} in model from: {self.checkpoint}',
                      logger='current')
        checkpoint = load_pretrained_file(self.checkpoint, self.map_location)
        weights = check_fit(module, checkpoint, self.prefix, self.checkpoint)
        metadata = getattr(checkpoint.get('state_dict', checkpoint),
                           '_metadata', None)
        if self.prefix is None and metadata is not None:
            # As MMEngine: BN's version-dependent loading reads it.
            weights._metadata = metadata
        module.load_state_dict(weights, strict=False)
        print_log(
            fit_summary(module, self.checkpoint, weights), logger='current')
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())
