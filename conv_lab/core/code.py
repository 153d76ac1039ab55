"""A layer as PyTorch code: `nn.<Kind>(arg=value, ...)`, written one way for every page (no torch import here).

Values are written with `repr`, in the order given, so a caller decides which arguments appear (torch's
order, defaults left out or not) and how a value reads (e.g. 3 rather than (3, 3)) before calling.
"""

from __future__ import annotations

from typing import Any, Mapping


def argument_text(values: Mapping[str, Any], positional: int = 0, hidden: str = "") -> str:
    """`name=value, ...` in the order given: the first `positional` values without their names, `hidden` as `?`.

    >>> argument_text({"in_channels": 3, "out_channels": 16, "kernel_size": (3, 5), "stride": 2}, 2, "stride")
    '3, 16, kernel_size=(3, 5), stride=?'
    """
    parts = []
    for i, (name, value) in enumerate(values.items()):
        text = "?" if name == hidden else repr(value)
        parts.append(text if i < positional else f"{name}={text}")
    return ", ".join(parts)


def layer_code(kind: str, values: Mapping[str, Any], positional: int = 0, hidden: str = "") -> str:
    """The constructor call of a torch.nn layer, its arguments written by `argument_text`.

    >>> layer_code("Conv2d", {"in_channels": 1, "out_channels": 6, "kernel_size": 5, "padding": "same"})
    "nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5, padding='same')"
    """
    return f"nn.{kind}({argument_text(values, positional, hidden)})"
