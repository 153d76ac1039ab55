"""The sweep page's own URL options (op, filter, channel, step, values, region, ceil_mode, …), validated.

Like `state.parse_query`, nothing here raises: a bad or out-of-range value falls back or is
clamped, with a notice naming it. Ranges depend on the layer (how many filters, how many steps),
so the step is clamped later, once the sweep's length is known (`clamp_step`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Mapping

from conv_lab.sweep.player import SPEEDS
from conv_lab.core.state import LabConfig
from conv_lab.sweep.data import OPS, VALUE_KINDS

REGION_MODES = ("region", "row")
_INT = re.compile(r"^\s*\d{1,7}\s*$")
_FLOAT = re.compile(r"^\s*\d{1,3}(\.\d{1,3})?\s*$")


@dataclass(frozen=True)
class SweepOptions:
    """The page options of the sweep (defaults are what a bare /sweep link shows).

    >>> SweepOptions().op, SweepOptions().step
    ('conv', 1)
    """

    op: str = "conv"
    filter_index: int = 0
    channel: int = 0
    step: int = 1  # 1-based output position, row-major
    values: str = "int"
    region: str = "region"
    ceil_mode: bool = False
    count_include_pad: bool = True
    speed: float = 4.0

    def to_query(self) -> dict[str, str]:
        """Query params for the options that differ from the defaults.

        >>> SweepOptions(op="max", step=5).to_query()
        {'op': 'max', 'step': '5'}
        """
        values, defaults = self.to_query_all(self), self.to_query_all(SweepOptions())
        return {k: v for k, v in values.items() if v != defaults[k]}

    @staticmethod
    def to_query_all(options: "SweepOptions") -> dict[str, str]:
        """Every option as its query string value."""
        return {"op": options.op, "filter": str(options.filter_index), "channel": str(options.channel),
                "step": str(options.step), "values": options.values, "region": options.region,
                "ceil_mode": "1" if options.ceil_mode else "0",
                "count_include_pad": "1" if options.count_include_pad else "0", "speed": f"{options.speed:g}"}


def _last(value) -> str:
    if isinstance(value, (list, tuple)):
        return str(value[-1]) if value else ""
    return "" if value is None else str(value)


def _bounded(key: str, raw: str, hi: int, notices: list[str]) -> int | None:
    if not _INT.match(raw):
        notices.append(f"{key}={raw[:40]!r} is not a whole number; using the default")
        return None
    value = int(raw)
    if value > hi:
        notices.append(f"{key}={value}: only 0…{hi} exist for this layer; using {hi}")
        return hi
    return value


def parse_sweep_query(params: Mapping, config: LabConfig) -> tuple[SweepOptions, list[str]]:
    """Read the sweep options from query params, clamping to what this layer has; never raises.

    >>> parse_sweep_query({"op": "max", "filter": "99", "values": "float"}, LabConfig(out_channels=4))
    (SweepOptions(op='max', filter_index=3, channel=0, step=1, values='float', region='region', ceil_mode=False, count_include_pad=True, speed=4.0), ['filter=99: only 0…3 exist for this layer; using 3'])
    """
    notices: list[str] = []
    found: dict = {}
    choices = {"op": OPS, "values": VALUE_KINDS, "region": REGION_MODES}
    for key, options in choices.items():
        raw = _last(params.get(key)).strip().lower()
        if raw:
            if raw in options:
                found[key] = raw
            else:
                notices.append(f"{key}={raw[:40]!r} is not one of {', '.join(options)}; using the default")
    for key, name, hi in (("filter", "filter_index", config.out_channels - 1), ("channel", "channel", config.in_channels - 1),
                          ("step", "step", 10**7)):
        raw = _last(params.get(key))
        if raw:
            value = _bounded(key, raw, hi, notices)
            if value is not None:
                found[name] = max(1, value) if key == "step" else value
    for key in ("ceil_mode", "count_include_pad"):
        raw = _last(params.get(key)).strip().lower()
        if raw:
            if raw in ("1", "0", "true", "false"):
                found[key] = raw in ("1", "true")
            else:
                notices.append(f"{key}={raw[:40]!r} is not 1 or 0; using the default")
    raw = _last(params.get("speed"))
    if raw:
        if _FLOAT.match(raw):
            found["speed"] = min(SPEEDS, key=lambda s: abs(s - float(raw)))
        else:
            notices.append(f"speed={raw[:40]!r} is not a number of steps per second; using the default")
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
