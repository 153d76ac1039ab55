"""The /gradients page's own URL options (which backward sweep, the channel and filter followed): a table."""

from __future__ import annotations

from typing import Mapping

from conv_lab import limits
from conv_lab.core.options import Option, parse_options
from conv_lab.core.state import LabConfig

GRADIENT_OPTIONS = (
    Option("grad", "choice", "input", label="Backward sweep", choices=("input", "weight")),
    Option("channel", "int", 0, 0, limits.MAX_CHANNELS - 1, "Input channel"),
    Option("filter", "int", 0, 0, limits.MAX_FILTERS - 1, "Filter", field="filter_index"),
)


def parse_gradient_query(params: Mapping, config: LabConfig) -> tuple[dict, list[str]]:
    """The page options from query params, clamped to this layer; a bad value falls back with a notice.

    >>> parse_gradient_query({"grad": "weight", "channel": "9"}, LabConfig(in_channels=3))
    ({'grad': 'weight', 'channel': 2, 'filter_index': 0}, ['channel=9 must be between 0 and 2; using 2'])
    """
    notices: list[str] = []
    found = parse_options(GRADIENT_OPTIONS, params, notices,
                          {"channel": config.in_channels - 1, "filter": config.out_channels - 1})
    return {"grad": "input", "channel": 0, "filter_index": 0, **found}, notices


def filters_reading(config: LabConfig, channel: int) -> range:
    """The filters whose group reads input `channel`.

    >>> filters_reading(LabConfig(in_channels=4, out_channels=6, groups=2), 3)
    range(3, 6)
    """
    per_in, per_out = config.in_channels // config.groups, config.out_channels // config.groups
    group = channel // per_in
    return range(group * per_out, (group + 1) * per_out)
