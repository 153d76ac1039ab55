"""Query params <-> layer configuration: tolerant parsing and readable share links.

Every value may come from a hostile URL: a bad value falls back to its default (or is clamped
into range) and produces a notice that names it; nothing here raises. Both directions are the
parameter table (`params.PARAMETERS`) read by the one option parser (`options`). Building the
ConvSpec from a config may still raise ConvConfigError for combinations that torch rejects; the
page shows that message.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Mapping, Union
from urllib.parse import urlencode

from conv_lab.core.options import Option, QueryValue, option_keys, options_query, parse_options
from conv_lab.core.params import PARAM, PARAMETERS, Pair, as_pair
from conv_lab.core.spec import ConvSpec

CONFIG_KEYS = option_keys(PARAMETERS)
# Flags every page understands, shared in links beside the layer (the pages' own options are their tables).
FLAG_OPTIONS = (Option("present", "bool", False, label="Projector mode", help="big type for the back of the room"),
                Option("predict", "bool", False, label="Predict first", help="hide the answer until you guess"))


def _default(name: str):
    value = PARAM[name].default
    return (value, value) if PARAM[name].kind == "pair" and isinstance(value, int) else value


@dataclass(frozen=True)
class LabConfig:
    """Everything a share link carries about the layer and its input.

    >>> LabConfig().input_shape()
    (1, 3, 32, 32)
    """

    in_channels: int = _default("in_channels")
    height: int = _default("input_size")[0]
    width: int = _default("input_size")[1]
    out_channels: int = _default("out_channels")
    kernel_size: Pair = _default("kernel_size")
    stride: Pair = _default("stride")
    padding: Union[Pair, str] = _default("padding")
    dilation: Pair = _default("dilation")
    groups: int = _default("groups")
    bias: bool = _default("bias")
    padding_mode: str = _default("padding_mode")
    transposed: bool = _default("transposed")
    output_padding: Pair = _default("output_padding")

    @property
    def input_size(self) -> Pair:
        """(height, width) of the input, the table's `input_size` row.

        >>> LabConfig(height=5, width=7).input_size
        (5, 7)
        """
        return self.height, self.width

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
    padding = spec.padding if isinstance(spec.padding, str) else as_pair(spec.padding, "padding")
    return LabConfig(spec.in_channels, height, width, spec.out_channels, spec.kernel_hw, spec.stride_hw, padding,
                     spec.dilation_hw, spec.groups, spec.bias, spec.padding_mode, spec.transposed, spec.output_padding_hw)


def to_query(config: LabConfig) -> dict[str, str]:
    """Readable query params for a share link: the main five always, the rest when not default.

    >>> to_query(LabConfig(out_channels=64, stride=(2, 2), padding=(1, 1)))
    {'input': '3x32x32', 'filters': '64', 'kernel': '3', 'stride': '2', 'padding': '1'}
    """
    return options_query(PARAMETERS, config)


def share_query_string(config: LabConfig, **extra: str | None) -> str:
    """The query string (without '?') for a link that opens exactly this configuration, plus page options.

    >>> share_query_string(LabConfig(), present="1")
    'input=3x32x32&filters=16&kernel=3&stride=1&padding=0&present=1'
    """
    return urlencode({**to_query(config), **{k: v for k, v in extra.items() if v is not None}})


def parse_query(params: Mapping[str, QueryValue], extra_keys: Iterable[str] = (),
                base: LabConfig = DEFAULT) -> tuple[LabConfig, list[str]]:
    """Read a configuration from query params; every bad value becomes a notice, never an exception.

    `extra_keys`: the page options that may share the URL (read by their pages); other keys get a notice.

    >>> parse_query({"input": "3x32x32", "filters": "64", "kernel": "3", "stride": "2", "padding": "1"})[0].stride
    (2, 2)
    >>> parse_query({"kernel": "banana"})[1]
    ["kernel='banana' is not a size like 3 or 3x5; using the default"]
    """
    notices: list[str] = []
    allowed = set(CONFIG_KEYS) | set(extra_keys)
    params = dict(list(params.items())[:64])
    for key in params:
        if key not in allowed:
            notices.append(f"ignored unknown setting {str(key)[:40]!r}")
    values = parse_options(PARAMETERS, params, notices)
    if "input_size" in values:
        values["height"], values["width"] = values.pop("input_size")
    return replace(base, **values), notices
