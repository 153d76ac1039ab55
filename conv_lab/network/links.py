"""Links from a planned layer to the pages that explain it: its conv layer opened in the Shape Lab or the sweep."""

from __future__ import annotations

import re

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.spec import ConvSpec
from conv_lab.core.state import config_from_spec, share_query_string
from conv_lab.network.plan import PlanRow

CONV_KIND = re.compile(r"^Conv(Transpose)?([123])d$")
SPEC_FIELDS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
               "padding_mode", "output_padding")


def layer_query(row: PlanRow) -> str | None:
    """The query string that opens a conv row's layer, on the input it gets in the stack (None for other rows).

    >>> from conv_lab.network.plan import plan
    >>> layer_query(plan((1, 3, 32, 32), [("Conv2d", "out_channels=8, kernel_size=3, stride=2")]).rows[0])
    'input=3x32x32&filters=8&kernel=3&stride=2&padding=0'
    """
    match = CONV_KIND.match(row.kind or "")
    if not match or row.kwargs is None or row.in_shape is None or row.status != "ok":
        return None
    if len(row.in_shape) != int(match.group(2)) + 2:  # an unbatched input (torch reads (C, L) as one sample)
        return None
    values = {name: row.kwargs[name] for name in SPEC_FIELDS if name in row.kwargs}
    try:
        spec = ConvSpec(**values, transposed=bool(match.group(1)), dims=int(match.group(2)))
        return share_query_string(config_from_spec(spec, *row.in_shape[2:]))
    except (ConvConfigError, TypeError, ValueError):  # a layer the page's controls cannot hold: no link
        return None
