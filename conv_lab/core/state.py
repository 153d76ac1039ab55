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
from conv_lab.core.params import DIMS, PARAM, PARAMETERS, Sizes, as_sizes, fmt
from conv_lab.core.spec import ConvSpec

CONFIG_KEYS = option_keys(PARAMETERS)
# Flags every page understands, shared in links beside the layer (the pages' own options are their tables).
FLAG_OPTIONS = (Option("present", "bool", False, label="Projector mode", help="big type for the back of the room"),
                Option("predict", "bool", False, label="Predict first", help="hide the answer until you guess"))


SIZED = tuple(p.name for p in PARAMETERS if p.kind == "sizes" and p.name != "input_size")  # one value per dimension
INPUT_HI = dict(zip(DIMS, PARAM["input_size"].his))  # the input sides a link or slider may ask for, by dimension


def _default(name: str):
    return PARAM[name].default


@dataclass(frozen=True)
class LabConfig:
    """Everything a share link carries about the layer and its input. Sizes hold one value per dimension (`dims`);
    a 1-D input is a one-row strip (height 1, width L) and a 3-D one adds a depth, so 2-D pictures draw every layer.

    >>> LabConfig().input_shape(), LabConfig(dims=1, height=1, width=100, kernel_size=(5,)).input_shape()
    ((1, 3, 32, 32), (1, 3, 100))
    """

    in_channels: int = _default("in_channels")
    height: int = _default("input_size")[0]
    width: int = _default("input_size")[1]
    out_channels: int = _default("out_channels")
    kernel_size: Sizes = _default("kernel_size")
    stride: Sizes = _default("stride")
    padding: Union[Sizes, str] = _default("padding")
    dilation: Sizes = _default("dilation")
    groups: int = _default("groups")
    bias: bool = _default("bias")
    padding_mode: str = _default("padding_mode")
    transposed: bool = _default("transposed")
    output_padding: Sizes = _default("output_padding")
    dims: int = 2
    depth: int = 1  # 3-D only

    @property
    def input_size(self) -> Sizes:
        """The input's spatial sizes, the table's `input_size` row: (L,), (H, W) or (D, H, W).

        >>> LabConfig(height=5, width=7).input_size, LabConfig(dims=3, depth=4, height=5, width=7).input_size
        ((5, 7), (4, 5, 7))
        """
        return ((self.width,), (self.height, self.width), (self.depth, self.height, self.width))[self.dims - 1]

    def input_shape(self, batch: int = 1) -> tuple[int, ...]:
        """(N, C, *sizes) of the input tensor.

        >>> LabConfig(in_channels=1, height=5, width=7).input_shape()
        (1, 1, 5, 7)
        """
        return batch, self.in_channels, *self.input_size

    def spec(self) -> ConvSpec:
        """The ConvSpec (sizes equal in every dimension collapse to ints); may raise ConvConfigError.

        >>> LabConfig(kernel_size=(3, 5)).spec().kernel_size, LabConfig(dims=1, kernel_size=(9,)).spec().module_name
        ((3, 5), 'Conv1d')
        """
        def squash(v):
            return v[0] if isinstance(v, tuple) and len(set(v)) == 1 else v

        return ConvSpec(self.in_channels, self.out_channels, squash(self.kernel_size), squash(self.stride),
                        squash(self.padding), squash(self.dilation), self.groups, self.bias, self.padding_mode,
                        self.transposed, squash(self.output_padding), self.dims)

    @property
    def non_square(self) -> bool:
        """True when any size differs between dimensions (a clip's depth has its own control: not counted).

        >>> LabConfig(stride=(1, 2)).non_square, LabConfig(dims=3, depth=8, kernel_size=(3, 3, 3)).non_square
        (True, False)
        """
        sizes = [self.kernel_size, self.stride, self.dilation, self.output_padding, self.input_size[-2:]]
        if isinstance(self.padding, tuple):
            sizes.append(self.padding)
        return any(len(set(v)) > 1 for v in sizes)

    def with_dims(self, dims: int) -> "LabConfig":
        """The same layer in `dims` dimensions: each size keeps its first value, the input its width (capped).

        >>> c = LabConfig().with_dims(3); c.input_size, c.kernel_size
        ((8, 32, 32), (3, 3, 3))
        """
        if dims == self.dims:
            return self
        side = min(self.width, INPUT_HI[dims])
        changes = {name: sized(getattr(self, name), dims) for name in SIZED}
        if changes["padding"] == "causal" and dims != 1:
            changes["padding"] = "same"
        return replace(self, dims=dims, depth=min(8, side) if dims == 3 else 1, height=1 if dims == 1 else side,
                       width=side, **changes)

    def with_values(self, **changes) -> "LabConfig":
        """A copy with some fields changed.

        >>> LabConfig().with_values(out_channels=8).out_channels
        8
        """
        return replace(self, **changes)


DEFAULT = LabConfig()


def sized(value, dims: int):
    """A per-dimension value as `dims` entries: a word stays, one number (or all equal) applies to every dimension.

    >>> sized((3, 3), 1), sized((2,), 3), sized("same", 2), sized((3, 5), 2)
    ((3,), (2, 2, 2), 'same', (3, 5))
    """
    if isinstance(value, str):
        return value
    values = (value,) if isinstance(value, int) else tuple(value)
    return values if len(values) == dims else (values[0],) * dims


def config_from_spec(spec: ConvSpec, *sizes: int) -> LabConfig:
    """The LabConfig for a ConvSpec and its input's spatial sizes (used by presets and practice links).

    >>> config_from_spec(ConvSpec(3, 64, 3, stride=2, padding=1), 32, 32).stride
    (2, 2)
    >>> config_from_spec(ConvSpec(1, 16, 80, stride=4, dims=1), 16000).input_shape()
    (1, 1, 16000)
    """
    padding = spec.padding if isinstance(spec.padding, str) else as_sizes(spec.padding, spec.dims, "padding")
    depth, height = (sizes[0], sizes[1]) if spec.dims == 3 else (1, sizes[0] if spec.dims == 2 else 1)
    return LabConfig(spec.in_channels, height, sizes[-1], spec.out_channels, spec.kernel_nd, spec.stride_nd, padding,
                     spec.dilation_nd, spec.groups, spec.bias, spec.padding_mode, spec.transposed,
                     spec.output_padding_nd, spec.dims, depth)


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
    ["kernel='banana' is not a size like 3, 3x5 or 3x3x5; using the default"]
    """
    notices: list[str] = []
    allowed = set(CONFIG_KEYS) | set(extra_keys)
    params = dict(list(params.items())[:64])
    for key in params:
        if key not in allowed:
            notices.append(f"ignored unknown setting {str(key)[:40]!r}")
    # The input first: its rank sets the dimension, and with it the ranges of the other sizes.
    values = parse_options([p for p in PARAMETERS if p.key == "input"], params, notices)
    dims = base.dims
    if "input_size" in values:
        size = values.pop("input_size")
        dims = len(size)
        values.update(depth=size[0] if dims == 3 else 1, height=size[-2] if dims > 1 else 1, width=size[-1])
    bounds = {p.key: p.his[dims - 1] for p in PARAMETERS if p.his and p.key != "input"}
    values.update(parse_options([p for p in PARAMETERS if p.key != "input"], params, notices, bounds))
    for name in SIZED:  # one value per dimension: one number fits every rank, a wrong count falls back
        value = values.get(name, getattr(base, name))
        if isinstance(value, tuple) and len(value) not in (1, dims) and len(set(value)) > 1:
            key = PARAM[name].key
            notices.append(f"{key}={'x'.join(map(str, value))} has {len(value)} values but the input is {dims}-D; "
                           f"using {fmt(sized(PARAM[name].default, dims))}")
            value = PARAM[name].default
        values[name] = sized(value, dims)
    return replace(base, dims=dims, **values), notices
