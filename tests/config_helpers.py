"""Helpers for tests that compare configs."""


def strip_scope(node):
    """``node`` without MMEngine's ``_scope_`` keys (those of the bases of
    another package), so that a config compares with its base's."""
    if isinstance(node, dict):
        return {k: strip_scope(v) for k, v in node.items() if k != '_scope_'}
    if isinstance(node, (list, tuple)):
        return type(node)(strip_scope(v) for v in node)
    return node
