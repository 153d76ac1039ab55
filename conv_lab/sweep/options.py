"""The sweep page's own URL options (op, filter, channel, step, values, region, ceil_mode, …): a table.

Read by the one option parser (`core.options`), like the layer's table: nothing here raises; a bad
or out-of-range value falls back or is clamped, with a notice naming it. Ranges depend on the layer
(how many filters, how many steps), so the step is clamped later, once the sweep's length is known
(`clamp_step`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Mapping

from conv_lab import limits
from conv_lab.core.options import Option, option_defaults, options_query, parse_options
from conv_lab.core.state import LabConfig
from conv_lab.sweep.data import OPS, VALUE_KINDS

REGION_MODES = ("region", "row")
SPEEDS = (0.5, 1, 2, 4, 8, 15, 30)  # steps per second the player offers
SWEEP_OPTIONS = (
    Option("op", "choice", "conv", label="Operation", choices=OPS),
    Option("filter", "int", 0, 0, limits.MAX_FILTERS - 1, "Filter", field="filter_index"),
    Option("channel", "int", 0, 0, limits.MAX_CHANNELS - 1, "Input channel in front"),
    Option("step", "int", 1, 1, 10**7, "Output position (step)"),  # clamped to the sweep's length later
    Option("values", "choice", "int", label="Values", choices=VALUE_KINDS),
    Option("region", "choice", "region", label="Large sweeps animate", choices=REGION_MODES),
    Option("ceil_mode", "bool", False, label="ceil_mode"),
    Option("count_include_pad", "bool", True, label="count_include_pad"),
    Option("speed", "float", 4.0, label="Speed", choices=SPEEDS),
    Option("out_depth", "int", 0, 0, 10**6, "Output depth slice (3-D)"),  # clamped to the layer's output depth later
)
_DEFAULTS = option_defaults(SWEEP_OPTIONS)


@dataclass(frozen=True)
class SweepOptions:
    """The page options of the sweep (defaults are what a bare /sweep link shows).

    >>> SweepOptions().op, SweepOptions().step
    ('conv', 1)
    """

    op: str = _DEFAULTS["op"]
    filter_index: int = _DEFAULTS["filter_index"]
    channel: int = _DEFAULTS["channel"]
    step: int = _DEFAULTS["step"]  # 1-based output position, row-major
    values: str = _DEFAULTS["values"]
    region: str = _DEFAULTS["region"]
    ceil_mode: bool = _DEFAULTS["ceil_mode"]
    count_include_pad: bool = _DEFAULTS["count_include_pad"]
    speed: float = _DEFAULTS["speed"]
    out_depth: int = _DEFAULTS["out_depth"]  # 3-D: the output depth slice swept

    def to_query(self) -> dict[str, str]:
        """Query params for the options that differ from the defaults.

        >>> SweepOptions(op="max", step=5).to_query()
        {'op': 'max', 'step': '5'}
        """
        return options_query(SWEEP_OPTIONS, self)


def parse_sweep_query(params: Mapping, config: LabConfig) -> tuple[SweepOptions, list[str]]:
    """Read the sweep options from query params, clamping to what this layer has; never raises.

    >>> parse_sweep_query({"op": "max", "filter": "99", "values": "float"}, LabConfig(out_channels=4))
    ... # doctest: +NORMALIZE_WHITESPACE
    (SweepOptions(op='max', filter_index=3, channel=0, step=1, values='float', region='region', ceil_mode=False,
                  count_include_pad=True, speed=4.0, out_depth=0), ['filter=99 must be between 0 and 3; using 3'])
    """
    notices: list[str] = []
    found = parse_options(SWEEP_OPTIONS, params, notices,
                          {"filter": config.out_channels - 1, "channel": config.in_channels - 1})
    return replace(SweepOptions(), **found), notices


def clamp_step(step: int, total: int, notices: list[str]) -> int:
    """The 1-based step within 1…total (a notice when the URL asked for more).

    >>> notes = []; clamp_step(40, 25, notes), notes
    (25, ['step=40: this sweep has 25 positions; using 25'])
    """
    if step > total:
        notices.append(f"step={step}: this sweep has {total} positions; using {total}")
        return total
    return max(1, step)


def clamp_out_depth(out_depth: int, depths: int, notices: list[str]) -> int:
    """The output depth slice within 0…depths−1 (a notice when the URL asked for more).

    >>> notes = []; clamp_out_depth(9, 4, notes), notes
    (3, ['out_depth=9: the output has depth slices 0–3; using 3'])
    """
    if out_depth >= depths:
        notices.append(f"out_depth={out_depth}: the output has depth slices 0–{depths - 1}; using {depths - 1}")
        return depths - 1
    return max(0, out_depth)


def url_step(value: str | None, fallback: int = 1) -> int:
    """The step the address holds (the player keeps it there; no step= is step 1); `fallback` when it is not a number.

    >>> url_step("7"), url_step(None, 5), url_step("x", 5)
    (7, 1, 5)
    """
    if value is None:
        return 1
    text = str(value).strip()
    return min(int(text), 10**7) if text.isdigit() else fallback



def new_timeline() -> str:
    """A fresh token for the step the sweep page has just decided (a link, the part control): the player opens there;
    reruns that keep the token keep the step the player was moved to (`PlayerPage.html`).

    >>> len(new_timeline()), new_timeline() != new_timeline()
    (12, True)
    """
    return secrets.token_hex(6)


FOLLOW_STEPS = 100  # more steps than a class can follow one by one
SMALL_LAYER = LabConfig(in_channels=1, height=5, width=5, out_channels=1, kernel_size=(3, 3), stride=(2, 2),
                        padding=(1, 1))  # 9 steps: a sweep a class can follow
# Layer controls a pooling sweep does not read, and why (the sidebar greys them out instead of leaving a Filters
# slider that does nothing; issue 16 item 10). Pooling keeps the input's channels and has no weights.
UNUSED_BY_POOLING = {"out_channels": "pooling has no filters: it pools each input channel on its own",
                     "groups": "pooling has no filters to group", "bias": "pooling adds no bias",
                     "padding_mode": "max pooling pads with −∞, average pooling with zeros"}


def unused_controls(page: str, op: object) -> dict[str, str]:
    """The layer controls page `page` ignores with sweep operation `op`, each with the reason shown beside it.

    >>> sorted(unused_controls("sweep", "max")), unused_controls("sweep", "conv"), unused_controls("", "max")
    (['bias', 'groups', 'out_channels', 'padding_mode'], {}, {})
    """
    return UNUSED_BY_POOLING if page == "sweep" and op in ("max", "avg") else {}


def too_many_steps(total: int) -> str:
    """The notice for a sweep longer than a class can follow ('' when it is short enough).

    >>> too_many_steps(9), too_many_steps(900)[:40]
    ('', 'This layer gives 900 steps: more than a ')
    """
    if total <= FOLLOW_STEPS:
        return ""
    return (f"This layer gives {total:,} steps: more than a class can follow one by one (about {FOLLOW_STEPS}). "
            "Sweep a small layer instead, or follow one part of this one (one output row, or a block).")
