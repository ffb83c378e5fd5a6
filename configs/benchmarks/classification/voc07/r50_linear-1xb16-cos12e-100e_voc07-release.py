# VOC07 multi-label classification as the CLSA authors' code does it: frozen
# ResNet-50, one FC layer (init N(0, 0.01)) with 20 sigmoid outputs and
# binary cross-entropy, SGD lr 0.05, momentum 0.9, no weight decay, batch 16
# on one GPU, 100 epochs of a cosine schedule with a period of 12 epochs
# (torch's CosineAnnealingLR(T_max=12) stepped every epoch: the lr falls to 0
# at epoch 12, climbs back to 0.05 at epoch 24, and so on). Trained on
# VOC2007 train, mAP on VOC2007 val, as in the release. Run with
# tools/benchmarks/linear_eval.sh CONFIG PRETRAIN 1.
_base_ = ['./r50_linear-8xb32-coslr-100e_voc07.py']

model = dict(
    head=dict(
        # mmpretrain's multi-label head sums the loss over the 20 classes and
        # averages over the batch; the weight 1/20 makes it the mean over all
        # outputs, as torch's BCEWithLogitsLoss that lr 0.05 was tuned for.
        loss=dict(loss_weight=1 / 20),
        init_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=0.)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(300, 300), backend='pillow'),
    # one of the two, with equal probability
    dict(
        type='RandomChoice',
        transforms=[
            [dict(type='ColorJitter', brightness=(0.8, 1.2))],
            [dict(
                type='RandomGrayscale',
                prob=0.25,
                keep_channels=True,
                # torchvision's luma weights, for BGR images
                channel_weights=(0.114, 0.587, 0.299))],
        ]),
    dict(type='RandomFlip', prob=0.25, direction='horizontal'),
    # torchvision's RandomRotation(25): an angle drawn uniformly from
    # [-25, 25] degrees, nearest neighbour, black corners
    dict(
        type='Rotate',
        magnitude_level=10,
        magnitude_range=(0, 25),
        magnitude_std='inf',
        total_level=10,
        prob=1.,
        random_negative_prob=0.5,
        pad_val=0,
        interpolation='nearest'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=330, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=300),
    dict(
        type='PackInputs',
        # VOC metrics need `gt_label_difficult`
        meta_keys=('sample_idx', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor', 'flip', 'flip_direction',
                   'gt_label_difficult')),
]
train_dataloader = dict(
    batch_size=16,
    dataset=dict(split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    dataset=dict(split='val', pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.))
param_scheduler = dict(T_max=12, end=100)

auto_scale_lr = dict(base_batch_size=16)
