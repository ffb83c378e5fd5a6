# What the MoCo v3, SimCLR and BYOL rows of the demo comparison share
# (docs/demo.md, "Recipes of the comparison"), by the rule written there for
# every base method; each row sets its model (and MoCo v3 its lr):
# - data, views, batch 32, epochs, seed, checkpoints: mocov2_r18_demo.py's,
#   with its two 64-pixel weakly augmented crops as the method's two crops;
# - ResNet-18 with BN (one process); the recipe's projector/predictor with
#   in_channels 512 and hidden widths / 4, as the demo shrinks MoCo v2's
#   (2048 -> 512); output widths, temperature, momentum and loss unchanged;
# - the recipe's LARS optimizer with its lr per 256 images, kept at batch 32
#   as the demo keeps MoCo v2's 0.03 (SimCLR and BYOL 4.8 x 256 / 4096 =
#   0.3), plain OptimWrapper (no AMP), the demo's single cosine schedule
#   over max_epochs (the recipes' 10 warm-up epochs dropped);
# - MoCo v3's and BYOL's CosineEMA anneal their own momentum; their rows
#   log it with MomentumQueueHook (SimCLR has no momentum encoder).
_base_ = '../mocov2_r18_demo.py'

# Plain BN: the recipes use SyncBN, whose statistics are global, so one
# process needs no split BN (that emulates shuffle-BN of MoCo v2 and CLSA).
model = dict(backbone=dict(norm_cfg=dict(_delete_=True, type='BN')))

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='LARS', lr=0.3, weight_decay=1e-6, momentum=0.9),
    paramwise_cfg=dict(
        custom_keys={
            'bn': dict(decay_mult=0, lars_exclude=True),
            'bias': dict(decay_mult=0, lars_exclude=True),
            # the BN layer of a ResNet block's downsample branch
            'downsample.1': dict(decay_mult=0, lars_exclude=True),
        }))

custom_hooks = []
