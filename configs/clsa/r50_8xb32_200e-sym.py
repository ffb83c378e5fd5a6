# CLSA single-crop with the symmetric loss (docs/method_ddm.md):
# r50_8xb32_200e.py with model.symmetric=True. Both 224 views are query and
# key: the key view is also a weak query, scored against the momentum keys
# of the weak view (row n = sample n, unlike the released code's shuffled
# rows), and every weak query supervises the strong view over its own bank.
# The keys of the weak view are enqueued.
_base_ = './r50_8xb32_200e.py'

model = dict(symmetric=True)
