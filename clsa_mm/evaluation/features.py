"""Frozen encoder features of a labelled data set."""
import torch
import torch.nn.functional as F
from mmengine.utils import ProgressBar


@torch.no_grad()
def extract_features(backbone, data_preprocessor, dataloader):
    """Global-average-pooled, L2-normalised last-stage features.

    Args:
        backbone (nn.Module): The encoder; its last output is used.
        data_preprocessor (nn.Module): Normalises and batches the images
            (``ClsDataPreprocessor``); its device is used.
        dataloader (DataLoader): Yields mmpretrain ``PackInputs`` batches of
            single-label samples.

    Returns:
        tuple[Tensor, Tensor]: ``(N, C)`` features and ``(N, )`` labels.
    """
    backbone.eval()
    feats, labels = [], []
    progress = ProgressBar(len(dataloader.dataset))
    for data_batch in dataloader:
        data = data_preprocessor(data_batch, training=False)
        outs = backbone(data['inputs'])
        feat = F.adaptive_avg_pool2d(outs[-1], 1).flatten(1)
        feats.append(F.normalize(feat, dim=1))
        for sample in data['data_samples']:
            label = sample.gt_label
            if label.numel() != 1:
                raise ValueError(
                    f'k-NN needs single-label samples; '
                    f'{sample.get("img_path", "a sample")} has labels '
                    f'{label.tolist()}')
            labels.append(label.reshape(()))
        progress.update(feat.size(0))
    print()
    return torch.cat(feats), torch.stack(labels).to(torch.long)
