# CLSA pretraining data, multi-crop: the single-crop base with five weak
# queries and five strong views at 224/192/160/128/96 (crop scales shrink
# with the size), each an independent crop of one decoded image. The
# batches hold [key, weak 224..96, strong 224..96], each (N,3,S,S).
_base_ = './imagenet_bs32_clsa.py'

crops = [
    dict(size=224, scale=(0.2, 1.0)),
    dict(size=192, scale=(0.172, 0.86)),
    dict(size=160, scale=(0.143, 0.715)),
    dict(size=128, scale=(0.114, 0.571)),
    dict(size=96, scale=(0.086, 0.429)),
]
train_dataloader = dict(
    dataset=dict(pipeline=[
        _base_.train_dataloader.dataset.pipeline[0],
        dict(
            _base_.train_dataloader.dataset.pipeline[1],
            weak_views=crops,
            strong_views=crops),
        _base_.train_dataloader.dataset.pipeline[2],
    ]))
del crops  # a helper, not a setting
