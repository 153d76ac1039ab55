"""Query params <-> layer configuration: tolerant parsing and readable share links.

Every value may come from a hostile URL: a bad value falls back to its default
(or is clamped into range) and produces a notice that names it; nothing here
raises. Building the ConvSpec from a config may still raise ConvConfigError for
combinations that torch rejects; the page shows that message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterable, Mapping, Union

from conv_lab import limits
from conv_lab.core.spec import PADDING_MODES, PADDING_WORDS, PARAM, ConvSpec, Pair

QueryValue = Union[str, list, tuple, None]
CONFIG_KEYS = ("input", "filters", "kernel", "stride", "padding", "dilation", "groups", "padding_mode",
               "bias", "transposed", "output_padding")
# Page options that may share a URL with the layer (not layer settings; each page reads its own).
UI_KEYS = ("present", "predict", "op", "filter", "step", "speed", "values", "region", "row", "channel",
           "pool_kernel", "ceil_mode", "seed", "level", "teacher", "bank", "image", "own_size", "relu", "net",
           "skip", "cell", "show_padding", "n", "scale", "blocks", "count_include_pad")
ALWAYS_WRITTEN = ("input", "filters", "kernel", "stride", "padding")
_INT = re.compile(r"^\s*[+]?\d{1,7}\s*$")


@dataclass(frozen=True)
class LabConfig:
    """Everything a share link carries about the layer and its input.

    >>> LabConfig().input_shape()
    (1, 3, 32, 32)
    """

    in_channels: int = 3
    height: int = 32
    width: int = 32
    out_channels: int = 16
    kernel_size: Pair = (3, 3)
    stride: Pair = (1, 1)
    padding: Union[Pair, str] = (0, 0)
    dilation: Pair = (1, 1)
    groups: int = 1
    bias: bool = True
    padding_mode: str = "zeros"
    transposed: bool = False
    output_padding: Pair = (0, 0)

    def input_shape(self, batch: int = 1) -> tuple[int, int, int, int]:
        """(N, C, H, W) of the input tensor.

        >>> LabConfig(in_channels=1, height=5, width=7).input_shape()
        (1, 1, 5, 7)
        """
        return batch, self.in_channels, self.height, self.width

    def spec(self) -> ConvSpec:
        """The ConvSpec (square pairs collapse to ints); may raise ConvConfigError.

        >>> LabConfig(kernel_size=(3, 5)).spec().kernel_size
        (3, 5)
        """
        def squash(v):
            return v[0] if isinstance(v, tuple) and v[0] == v[1] else v

        return ConvSpec(self.in_channels, self.out_channels, squash(self.kernel_size), squash(self.stride),
                        squash(self.padding), squash(self.dilation), self.groups, self.bias, self.padding_mode,
                        self.transposed, squash(self.output_padding))

    @property
    def non_square(self) -> bool:
        """True when any size differs between height and width.

        >>> LabConfig(stride=(1, 2)).non_square
        True
        """
        pairs = [self.kernel_size, self.stride, self.dilation, self.output_padding, (self.height, self.width)]
        if isinstance(self.padding, tuple):
            pairs.append(self.padding)
        return any(a != b for a, b in pairs)

    def with_values(self, **changes) -> "LabConfig":
        """A copy with some fields changed.

        >>> LabConfig().with_values(out_channels=8).out_channels
        8
        """
        return replace(self, **changes)


DEFAULT = LabConfig()


def config_from_spec(spec: ConvSpec, height: int, width: int) -> LabConfig:
    """The LabConfig for a ConvSpec and an input size (used by presets and practice links).

    >>> config_from_spec(ConvSpec(3, 64, 3, stride=2, padding=1), 32, 32).stride
    (2, 2)
    """
    from conv_lab.core.spec import as_pair

    padding = spec.padding if isinstance(spec.padding, str) else as_pair(spec.padding, "padding")
    return LabConfig(spec.in_channels, height, width, spec.out_channels, spec.kernel_hw, spec.stride_hw, padding,
                     spec.dilation_hw, spec.groups, spec.bias, spec.padding_mode, spec.transposed, spec.output_padding_hw)


def _pair_text(pair: Pair) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def to_query(config: LabConfig) -> dict[str, str]:
    """Readable query params for a share link: the main five always, the rest when not default.

    >>> to_query(LabConfig(out_channels=64, stride=(2, 2), padding=(1, 1)))
    {'input': '3x32x32', 'filters': '64', 'kernel': '3', 'stride': '2', 'padding': '1'}
    """
    values = {
        "input": f"{config.in_channels}x{config.height}x{config.width}",
        "filters": str(config.out_channels),
        "kernel": _pair_text(config.kernel_size),
        "stride": _pair_text(config.stride),
        "padding": config.padding if isinstance(config.padding, str) else _pair_text(config.padding),
        "dilation": _pair_text(config.dilation),
        "groups": str(config.groups),
        "padding_mode": config.padding_mode,
        "bias": "1" if config.bias else "0",
        "transposed": "1" if config.transposed else "0",
        "output_padding": _pair_text(config.output_padding),
    }
    return {k: v for k, v in values.items() if k in ALWAYS_WRITTEN or v != _ADVANCED_DEFAULTS[k]}


_ADVANCED_DEFAULTS = {"dilation": "1", "groups": "1", "padding_mode": "zeros", "bias": "1", "transposed": "0",
                      "output_padding": "0"}


def share_query_string(config: LabConfig, **extra: str) -> str:
    """The query string (without '?') for a link that opens exactly this configuration.

    >>> share_query_string(LabConfig(), present="1")
    'input=3x32x32&filters=16&kernel=3&stride=1&padding=0&present=1'
    """
    from urllib.parse import urlencode

    return urlencode({**to_query(config), **{k: v for k, v in extra.items() if v is not None}})


def _last(value: QueryValue) -> tuple[str, bool]:
    """The last value of a possibly repeated key, and whether it was repeated."""
    if isinstance(value, (list, tuple)):
        return (str(value[-1]) if value else ""), len(value) > 1
    return ("" if value is None else str(value)), False


def _clamp(name: str, key: str, raw: str, value: int, notices: list[str]) -> int:
    p = PARAM[name]
    if value < p.lo or value > p.hi:
        clamped = min(max(value, p.lo), p.hi)
        notices.append(f"{key}={raw}: {p.label.lower()} must be between {p.lo} and {p.hi}; using {clamped}")
        return clamped
    return value


def _parse_int(key: str, raw: str, name: str, notices: list[str]) -> int | None:
    if not _INT.match(raw):
        notices.append(f"{key}={raw!r} is not a whole number; using the default")
        return None
    return _clamp(name, key, raw, int(raw), notices)


def _parse_pair(key: str, raw: str, name: str, notices: list[str]) -> Pair | None:
    parts = re.split(r"[x×,*]", raw.strip().lower())
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or not all(_INT.match(p) for p in parts):
        notices.append(f"{key}={raw!r} is not a size like 3 or 3x5; using the default")
        return None
    return _clamp(name, key, raw, int(parts[0]), notices), _clamp(name, key, raw, int(parts[1]), notices)


def _parse_bool(key: str, raw: str, notices: list[str]) -> bool | None:
    text = raw.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    notices.append(f"{key}={raw!r} is not 1 or 0; using the default")
    return None


def _parse_input(raw: str, notices: list[str]) -> dict[str, int]:
    parts = re.split(r"[x×,*]", raw.strip().lower())
    if len(parts) == 2:  # HxW with the default channels
        parts = [str(DEFAULT.in_channels), *parts]
    if len(parts) != 3 or not all(_INT.match(p) for p in parts):
        notices.append(f"input={raw!r} is not C×H×W like 3x32x32; using the default")
        return {}
    c = _clamp("in_channels", "input", raw, int(parts[0]), notices)
    h = _clamp("input_size", "input", raw, int(parts[1]), notices)
    w = _clamp("input_size", "input", raw, int(parts[2]), notices)
    return {"in_channels": c, "height": h, "width": w}


def parse_query(params: Mapping[str, QueryValue], extra_keys: Iterable[str] = (),
                base: LabConfig = DEFAULT) -> tuple[LabConfig, list[str]]:
    """Read a configuration from query params; every bad value becomes a notice, never an exception.

    >>> parse_query({"input": "3x32x32", "filters": "64", "kernel": "3", "stride": "2", "padding": "1"})[0].stride
    (2, 2)
    >>> parse_query({"kernel": "banana"})[1]
    ["kernel='banana' is not a size like 3 or 3x5; using the default"]
    """
    notices: list[str] = []
    allowed = set(CONFIG_KEYS) | set(extra_keys)
    values: dict = {}
    for key, value in list(params.items())[:64]:
        if key not in allowed:
            notices.append(f"ignored unknown setting {str(key)[:40]!r}")
            continue
        if key not in CONFIG_KEYS:
            continue  # a page option: its page validates it
        raw, repeated = _last(value)
        if len(raw) > limits.MAX_URL_VALUE_CHARS:
            notices.append(f"{key}= is {len(raw)} characters long; using the default")
            continue
        if repeated:
            notices.append(f"{key} was given more than once; using the last value {raw!r}")
        if key == "input":
            values.update(_parse_input(raw, notices))
        elif key in ("filters", "groups"):
            name = "out_channels" if key == "filters" else "groups"
            parsed = _parse_int(key, raw, name, notices)
            if parsed is not None:
                values[name] = parsed
        elif key in ("kernel", "stride", "dilation", "output_padding"):
            name = {"kernel": "kernel_size"}.get(key, key)
            parsed = _parse_pair(key, raw, name, notices)
            if parsed is not None:
                values[name] = parsed
        elif key == "padding":
            if raw.strip().lower() in PADDING_WORDS:
                values["padding"] = raw.strip().lower()
            else:
                parsed = _parse_pair(key, raw, "padding", notices)
                if parsed is not None:
                    values["padding"] = parsed
        elif key == "padding_mode":
            if raw.strip().lower() in PADDING_MODES:
                values["padding_mode"] = raw.strip().lower()
            else:
                notices.append(f"padding_mode={raw!r} is not one of {', '.join(PADDING_MODES)}; using the default")
        else:  # bias, transposed
            parsed = _parse_bool(key, raw, notices)
            if parsed is not None:
                values[key] = parsed
    return replace(base, **values), notices
