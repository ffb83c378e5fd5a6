import copy
import os.path as osp
from typing import List, Sequence


def clsa_view_cells(transforms: Sequence, data_info: dict) -> List[dict]:
    """Run a CLSA train pipeline on one sample and describe its views.

    The transforms run one by one until one turns ``results['img']`` into
    the list of views ``[x_k, x_q..., x_s...]`` (``CLSAViews``); the image
    just before that is the original. The strong views are the last
    ``len(results['strong_ops'])`` ones.

    Args:
        transforms (Sequence[callable]): The pipeline's transforms.
        data_info (dict): The sample, e.g. ``dataset.get_data_info(i)``.

    Returns:
        list[dict]: Cells for :func:`draw_view_grid`: the original, the key,
        the weak queries and the strong views with their ops as caption.
    """
    results = copy.deepcopy(data_info)
    original = None
    for transform in transforms:
        before = results.get('img')
        results = transform(results)
        if results is None:
            raise ValueError(f'{transform} dropped the sample {data_info}')
        views = results.get('img')
        if isinstance(views, (list, tuple)):
            original = before
            break
    else:
        raise ValueError('No transform of the pipeline produced a list of '
                         'views (results["img"]); is it a CLSA pretraining '
                         'pipeline with CLSAViews?')
    if original is None:
        raise ValueError('The views were produced before any image was '
                         'loaded; cannot show the original')
    strong_ops = results.get('strong_ops', [])
    num_strong = len(strong_ops)
    num_weak = len(views) - 1 - num_strong

    def size(img):
        return f'{img.shape[1]}x{img.shape[0]}'

    name = osp.basename(str(data_info.get('img_path', 'image')))
    cells = [dict(img=original, title=f'{name} {size(original)}')]
    cells.append(dict(img=views[0], title=f'key x_k {size(views[0])}'))
    for i in range(num_weak):
        img = views[1 + i]
        cells.append(dict(img=img, title=f'weak x_q[{i}] {size(img)}'))
    for j, ops in enumerate(strong_ops):
        img = views[1 + num_weak + j]
        cells.append(
            dict(img=img, title=f'strong x_s[{j}] {size(img)}',
                 caption=', '.join(ops) if ops else '(no op applied)'))
    return cells
