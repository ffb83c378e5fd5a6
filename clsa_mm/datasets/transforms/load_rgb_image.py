import io
import logging

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmengine.logging import print_log
from PIL import Image

from clsa_mm.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadRGBImageFromFile(BaseTransform):
    """Decode ``results['img_path']`` into an HWC uint8 RGB array.

    Decodes with PIL like torchvision's ``ImageFolder`` in the released
    code: no EXIF rotation, grey/CMYK/palette images converted to RGB, and a
    truncated file is an error (OpenCV decodes a truncated JPEG without a
    word, filling the missing part with grey). Sets ``img``, ``img_shape``
    and ``ori_shape``.

    Args:
        ignore_corrupt (bool): Skip files that cannot be read or decoded:
            log a warning naming the file and how many this process has
            skipped, and return None, so that the dataset fetches another
            index. If False, raise an error naming the file.
            Defaults to False.
        backend_args (dict, optional): Arguments of the
            :mod:`mmengine.fileio` backend. Defaults to None.
    """

    def __init__(self, ignore_corrupt=False, backend_args=None):
        self.ignore_corrupt = ignore_corrupt
        self.backend_args = backend_args
        self.num_skipped = 0

    @staticmethod
    def decode(img_bytes):
        """Decode image file contents into an HWC uint8 RGB array."""
        with Image.open(io.BytesIO(img_bytes)) as img:
            if img.mode != 'RGB':
                img = img.convert('RGB')
            return np.array(img)

    def transform(self, results):
        filename = results['img_path']
        try:
            img = self.decode(
                fileio.get(filename, backend_args=self.backend_args))
        except Exception as e:
            reason = f'{type(e).__name__}: {e}'
            if not self.ignore_corrupt:
                raise OSError(
                    f'Cannot load image {filename}: {reason}. Remove or '
                    'replace the file, or set ignore_corrupt=True in '
                    'LoadRGBImageFromFile to skip such files.') from e
            self.num_skipped += 1
            print_log(
                f'Skipped image {filename} ({reason}); '
                f'{self.num_skipped} skipped so far by this process.',
                logger='current',
                level=logging.WARNING)
            return None
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}('
                f'ignore_corrupt={self.ignore_corrupt}, '
                f'backend_args={self.backend_args})')
