from mmengine.fileio import get_file_backend, list_from_file
from mmpretrain.datasets import CustomDataset
from mmpretrain.datasets.custom import get_samples

from clsa_mm.registry import DATASETS, clsa_mm_scope


def _path_of(line):
    """The image path of a list-file line ``path`` or ``path label``."""
    parts = line.rsplit(maxsplit=1)
    if len(parts) == 2 and parts[1].lstrip('-').isdigit():
        return parts[0]
    return line.strip()


@DATASETS.register_module()
class UnlabeledImageDataset(CustomDataset):
    """Images without labels for self-supervised pretraining.

    Either every image under ``data_root/data_prefix`` (an ImageNet-style
    ``train/<class>/*`` tree, searched recursively), or the images a list
    file ``ann_file`` names, one path relative to ``data_root/data_prefix``
    per line, optionally followed by a label that is ignored (ImageNet's
    ``meta/train.txt``). A missing data root, folder or list file and an
    empty data set are errors naming the path.

    Args:
        data_root (str): Root of ``data_prefix`` and ``ann_file``.
            Defaults to ''.
        data_prefix (str): Image folder, relative to ``data_root``.
            Defaults to ''.
        ann_file (str): List file, relative to ``data_root``. Defaults to ''
            (scan the folder).
        extensions (Sequence[str]): Image file extensions of the folder
            scan. Defaults to mmpretrain's (.jpg, .jpeg, .png, .ppm, .bmp,
            .pgm, .tif).
        **kwargs: Other arguments of mmpretrain's ``BaseDataset``
            (``pipeline``, ``indices``, ``lazy_init``, ...).
    """

    @clsa_mm_scope()  # the pipeline is built in the clsa_mm scope
    def __init__(self, data_root='', data_prefix='', ann_file='', **kwargs):
        if 'with_label' in kwargs:
            raise TypeError('UnlabeledImageDataset takes no with_label; its '
                            'images have no labels')
        super().__init__(
            data_root=data_root,
            data_prefix=data_prefix,
            ann_file=ann_file,
            with_label=False,
            **kwargs)

    def load_data_list(self):
        backend = get_file_backend(
            self.data_root or self.img_prefix, enable_singleton=True)
        if self.data_root and not backend.isdir(self.data_root):
            raise FileNotFoundError(
                f'Data root {self.data_root} does not exist or is not a '
                'folder')
        if self.ann_file:
            if not backend.isfile(self.ann_file):
                raise FileNotFoundError(
                    f'List file (ann_file) {self.ann_file} does not exist')
            samples = [
                _path_of(line) for line in list_from_file(self.ann_file)
                if line.strip()
            ]
            if not samples:
                raise ValueError(f'List file (ann_file) {self.ann_file} '
                                 'names no images')
        else:
            if not backend.isdir(self.img_prefix):
                raise FileNotFoundError(
                    f'Image folder {self.img_prefix} does not exist or is '
                    'not a folder')
            samples, _ = get_samples(
                self.img_prefix,
                None,
                is_valid_file=self.is_valid_file,
                backend=backend)
            if not samples:
                raise ValueError(
                    f'Image folder {self.img_prefix} holds no images with '
                    f'the extensions {", ".join(sorted(self.extensions))}')
        return [{
            'img_path': backend.join_path(self.img_prefix, sample)
        } for sample in samples]
