"""What the sweep page animates: seeded readable values for a LabConfig, the sweep, its arithmetic as text.

Values are small integers by default (inputs 0…9, weights −2…2, bias −3…3) so every product
can be checked by eye; `values="float"` switches to random floats with two decimals. Only the
channels the followed filter reads are generated, each from its own seed, so a layer with
many channels costs no more than its group. `oracle.torch_check` runs the real module on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

import numpy as np

from conv_lab import limits
from conv_lab.byte_cache import byte_lru_cache
from conv_lab.core.errors import ConvConfigError, WorkCapError
from conv_lab.core.grid import axis_placement
from conv_lab.core.params import filter_channels, fmt
from conv_lab.core.state import LabConfig
from conv_lab.sweep.depth import check_index, depth_sources, taps_sweep
from conv_lab.sweep.pooling import PoolSpec, pool_sweep
from conv_lab.sweep.steps import Sweep, sweep_steps

OPS = ("conv", "max", "avg")
# A 3-D sweep builds only the slices under its depth taps; the torch check reads the group's whole clip, up to this.
MAX_CHECKED_NUMBERS = 4 * limits.MAX_SWEEP_GRID_CELLS
VALUE_KINDS = ("int", "float")


@dataclass(frozen=True)
class SweepRequest:
    """Everything that decides one sweep (hashable: sweeps and their animations are cached on it).

    >>> SweepRequest(LabConfig()).op
    'conv'
    """

    config: LabConfig
    op: str = "conv"  # conv | max | avg
    filter_index: int = 0  # the filter followed (conv) or the channel pooled (max/avg)
    values: str = "int"
    seed: int = 0
    ceil_mode: bool = False
    count_include_pad: bool = True
    out_depth: int = 0  # 3-D: the output depth slice swept

    def pool_spec(self) -> PoolSpec:
        """The pooling layer made of the shared configuration's kernel, stride, padding and dilation (a 1-D layer's as
        its one-row strip: MaxPool1d/AvgPool1d are the 2-D pools of a 1×k window on a height-1 input)."""
        c = self.config
        if c.dims == 3:
            raise ConvConfigError("op", "pooling sweeps are drawn for 1-D and 2-D layers only (a 3-D pooling window "
                                  "is not animated)", "choose the convolution sweep, or a 1-D or 2-D layer")
        if c.padding == "causal":
            raise ConvConfigError("padding", "pooling layers take no causal padding", "choose a number for the padding")
        if c.transposed:
            raise ConvConfigError("transposed", "pooling has no transposed form", "switch off 'Transposed convolution' "
                                  "in the sidebar, or choose the convolution sweep")
        if c.padding == "same":
            raise ConvConfigError("padding", "pooling layers take no padding='same'", "choose a number for the padding")
        padding = (0,) * c.dims if c.padding == "valid" else c.padding
        if c.dims == 1:
            return PoolSpec(self.op, (1, *c.kernel_size), (1, *c.stride), (0, *padding), (1, *c.dilation),
                            self.ceil_mode, self.count_include_pad, dims=1)
        return PoolSpec(self.op, c.kernel_size, c.stride, padding, c.dilation, self.ceil_mode, self.count_include_pad)

    @property
    def channels(self) -> int:
        """Filters to choose from (conv) or channels to pool (max/avg)."""
        return self.config.out_channels if self.op == "conv" else self.config.in_channels


def _values(seed_parts: list[int], shape: tuple[int, ...], kind: str, lo: int, hi: int, scale: float) -> np.ndarray:
    rng = np.random.default_rng(seed_parts)
    if kind == "int":
        return rng.integers(lo, hi + 1, size=shape).astype(np.float64)
    return np.round(rng.normal(0.0, scale, size=shape), 2)


def sweep_input(request: SweepRequest, channels: tuple[int, ...]) -> np.ndarray:
    """The seeded input values of the given channels, shape (C, H, W) (1-D: H = 1; 3-D: (C, D, H, W)), the other
    channels left zero.

    >>> sweep_input(SweepRequest(LabConfig(in_channels=2, height=2, width=3)), (1,))[1]
    array([[6., 8., 8.],
           [2., 9., 2.]])
    """
    c = request.config
    sizes = (c.depth, c.height, c.width) if c.dims == 3 else (c.height, c.width)
    numbers, cap = len(channels) * int(np.prod(sizes)), MAX_CHECKED_NUMBERS if c.dims == 3 else limits.MAX_SWEEP_GRID_CELLS
    if numbers > cap:
        raise ConvConfigError("input_size", f"the sweep would read {numbers:,} input numbers, above Conv Lab's cap of "
                              f"{cap:,}", "use a smaller input or more groups (fewer channels per filter)")
    x = np.zeros((c.in_channels, *sizes))
    for ch in channels:
        if c.dims == 3:  # the whole clip (for the torch check): slice by slice, as the sweep draws them
            x[ch] = [input_slice(request, ch, z) for z in range(c.depth)]
        else:
            x[ch] = _values([request.seed, 1, ch], sizes, request.values, 0, 9, 1.0)
    return x


@dataclass(frozen=True)
class ConvFilter:
    """The followed filter's weights (C_in/groups, kh, kw; 1-D (…, 1, k); 3-D (…, kd, kh, kw)), bias, input channels."""

    weight: np.ndarray
    bias: Optional[float]
    channels: tuple[int, ...]


def conv_filter(request: SweepRequest) -> ConvFilter:
    """Seeded weights and bias of filter `request.filter_index`.

    >>> conv_filter(SweepRequest(LabConfig(in_channels=4, out_channels=4, groups=2), filter_index=3)).channels
    (2, 3)
    """
    spec = request.config.spec()
    o = request.filter_index
    channels = tuple(filter_channels(spec.in_channels, spec.out_channels, spec.groups, o))
    kernel = spec.kernel_nd if spec.dims == 3 else spec.kernel_hw
    weight = _values([request.seed, 2, o], (len(channels), *kernel), request.values, -2, 2, 0.5)
    bias = float(_values([request.seed, 3, o], (), request.values, 1, 3, 0.5)) if spec.bias else None
    if bias is not None and request.values == "int" and o % 2:
        bias = -bias  # whole-number biases are ±1…3: never a silent 0 in the arithmetic
    return ConvFilter(weight, bias, channels)


def _check_index(request: SweepRequest) -> None:
    if not 0 <= request.filter_index < request.channels:
        what = "filter" if request.op == "conv" else "channel"
        raise ConvConfigError(what, f"{what} {request.filter_index} does not exist; there are {request.channels}",
                              f"pick a {what} between 0 and {request.channels - 1}")


@byte_lru_cache(limits.SWEEP_CACHE_BYTES, maxsize=64)  # entries of 25 KB to 8 MB
def build_sweep(request: SweepRequest) -> Sweep:
    """The sweep for a request (cached): conv over the followed filter's group, or pooling of one channel.

    >>> len(build_sweep(SweepRequest(LabConfig(1, 5, 5, 1, padding=(1, 1)))))
    25
    """
    if request.op not in OPS:
        raise ConvConfigError("op", f"'{request.op}' is not a sweep Conv Lab knows", "use op=conv, max or avg")
    _check_index(request)
    check_grid_cap(request)
    if request.op == "conv" and request.config.dims == 3:
        return _depth_sweep(request)
    if request.op == "conv":
        spec = request.config.spec()
        conv = conv_filter(request)
        x = sweep_input(request, conv.channels)
        return sweep_steps(spec, x[:, 0] if spec.dims == 1 else x, conv.weight[:, 0] if spec.dims == 1 else conv.weight,
                           conv.bias, request.filter_index)
    pool = request.pool_spec()
    x = sweep_input(request, (request.filter_index,))
    sweep = pool_sweep(pool, x, request.filter_index)
    sweep.source_dims = pool.dims
    return sweep


def _depth_sweep(request: SweepRequest) -> Sweep:
    """A 3-D request's sweep of one output depth slice, generating only the input slices under its depth taps."""
    c, conv = request.config, conv_filter(request)
    spec = c.spec()
    _, _, depths, ho, wo = spec.output_shape(c.input_shape())
    check_index("out_depth", request.out_depth, depths)
    slices, sources, depth_kinds = depth_sources(spec, c.depth, request.out_depth)
    taps = np.zeros((len(conv.channels), len(sources), c.height, c.width))
    for n, ch in enumerate(conv.channels):
        for i, z in enumerate(sources):
            if z >= 0:
                taps[n, i] = input_slice(request, ch, int(z))
    return taps_sweep(spec, taps, conv.weight, conv.bias, request.filter_index, request.out_depth, (depths, ho, wo),
                      slices, depth_kinds)


def input_slice(request: SweepRequest, channel: int, z: int) -> np.ndarray:
    """Depth slice z of input channel `channel` of a 3-D request (H, W): each slice has its own seed.

    >>> input_slice(SweepRequest(LabConfig(1, 2, 2, dims=3, depth=3, kernel_size=(1, 1, 1))), 0, 2).shape
    (2, 2)
    """
    return _values([request.seed, 1, channel, z], (request.config.height, request.config.width), request.values, 0, 9,
                   1.0)


def grid_cells(request: SweepRequest, sizes: tuple[int, int, int] | None = None) -> int:
    """Numbers in the grid the sweep builds on a depth×height×width input (height 1 in 1-D), by arithmetic alone: the
    followed filter's group of channels padded (or zero-inserted, transposed; in 3-D the kd depth slices of one output
    depth), or the pooled channel with its padding and ceil_mode cells.

    >>> grid_cells(SweepRequest(LabConfig(in_channels=4, height=8, width=8, out_channels=4, groups=2, padding=(1, 1))))
    200
    """
    c = request.config
    d, h, w = sizes or (c.depth, c.height, c.width)
    if request.op != "conv":
        pool = request.pool_spec()
        extra = [max(0, (n - 1) * s + (k - 1) * d + 1 - (i + 2 * p)) for n, s, k, d, i, p in
                 zip(pool.output_hw((h, w)), pool.stride, pool.kernel_size, pool.dilation, (h, w), pool.padding)]
        return (h + 2 * pool.padding[0] + extra[0]) * (w + 2 * pool.padding[1] + extra[1])
    spec = c.spec()
    rows, cols = sum(axis_placement(spec, 0, h)), sum(axis_placement(spec, 1, w))  # inner size + padding (or crop)
    depth = spec.kernel_nd[0] if spec.dims == 3 else 1  # a 3-D sweep builds the slices under its depth taps
    return spec.in_channels // spec.groups * depth * max(1, rows) * max(1, cols)


def check_grid_cap(request: SweepRequest) -> None:
    """WorkCapError before anything is built when the sweep's grid is over limits.MAX_SWEEP_GRID_CELLS, naming the
    cap and the largest input of the same aspect (sides halved) that fits.

    >>> check_grid_cap(SweepRequest(LabConfig(in_channels=64, height=512, width=512)))
    Traceback (most recent call last):
    ...
    conv_lab.core.errors.WorkCapError: input_size: the sweep's grid would hold 16,777,216 numbers, above Conv Lab's cap of \
1,000,000 for one sweep: use a smaller input, fewer channels per group or a smaller stride; e.g. input 64×64×64 fits
    """
    cells, cap = grid_cells(request), limits.MAX_SWEEP_GRID_CELLS
    if cells <= cap:
        return
    c, fit = request.config, ""
    sizes = c.input_size
    for _ in range(12):
        sizes = tuple(max(1, n // 2) for n in sizes)
        try:
            if request.op == "conv":
                c.spec().output_shape((1, c.in_channels, *sizes))  # the layer still has an output
            if grid_cells(request, ((1,) * (3 - len(sizes)) + sizes)[-3:]) <= cap:
                fit = f"; e.g. input {fmt((c.in_channels, *sizes))} fits"
                break
        except ConvConfigError:
            break
    raise WorkCapError("input_size", f"the sweep's grid would hold {cells:,} numbers, above Conv Lab's cap of {cap:,} "
                       "for one sweep", f"use a smaller input, fewer channels per group or a smaller stride{fit}")


# Memoised: an animation prints ~10^5 numbers, mostly the same few small whole numbers (issue 17). Equal keys
# print alike (3 and 3.0, 0.0 and -0.0), so the cache never changes a text.
@lru_cache(maxsize=8192)
def fmt_number(value: float, kind: str) -> str:
    """A cell value as printed: whole numbers plain, floats with two decimals, −∞ for max pooling's padding.

    >>> fmt_number(-3.0, "int"), fmt_number(0.5, "float"), fmt_number(float("-inf"), "int")
    ('−3', '0.50', '−∞')
    """
    if math.isinf(value):  # math, not numpy: this runs ~10^5 times per animation (issue 17)
        return "−∞" if value < 0 else "∞"
    text = f"{value:.0f}" if kind == "int" and float(value).is_integer() else f"{value:.2f}"
    if text in ("-0", "-0.00"):
        text = text[1:]
    return text.replace("-", "−")


def _shown(values: np.ndarray, max_terms: int, kind: str) -> list[str]:
    """All values as printed when at most 2·max_terms, else the first max_terms and '…' (only those formatted)."""
    flat = values.ravel()
    count = len(flat) if len(flat) <= 2 * max_terms else max_terms
    return [fmt_number(v, kind) for v in flat[:count].tolist()] + ([] if count == len(flat) else ["…"])


@lru_cache(maxsize=8192)
def _factor(value: float, kind: str) -> str:
    text = fmt_number(value, kind)
    return f"({text})" if text.startswith("−") else text


_FACTORS: dict[str, dict[float, str]] = {kind: {} for kind in VALUE_KINDS}  # value → _factor text, per kind


def _products(values: list[float], weights: tuple[str, ...], kind: str) -> list[str]:
    """'a×w' for each input value and weight text (a plain dict of the values' texts: a sweep's player formats
    ~10^5 products, issue 17)."""
    table = _FACTORS.get(kind)
    if table is None:
        return [_factor(a, kind) + w for a, w in zip(values, weights)]
    try:
        return [table[a] + w for a, w in zip(values, weights)]
    except KeyError:
        if len(table) > 8192:
            table.clear()
        table.update((a, _factor(a, kind)) for a in values)
        return [table[a] + w for a, w in zip(values, weights)]


@lru_cache(maxsize=512)
def _weights(weights: tuple[float, ...], kind: str) -> tuple[str, ...]:
    return tuple("×" + _factor(w, kind) for w in weights)


def step_lines(sweep: Sweep, index: int, kind: str, max_channels: int = 3, max_terms: int = 9) -> list[str]:
    """The arithmetic of one step as short text lines (products, per-channel sums, bias, result).

    >>> step_lines(build_sweep(SweepRequest(LabConfig(1, 3, 3, 1, kernel_size=(2, 2), bias=False))), 0, "int")
    ['output (0, 0) = Σ input × weight', 'ch 0: 5×2 + 8×(−2) + 5×(−1) + 3×0 = −11', 'result: −11']
    """
    if sweep.op == "conv" and 0 <= index < len(sweep):  # the numbers without building a SweepStep (issue 17)
        row, col = divmod(int(index), sweep.out_shape[1])
        window = sweep.window(row, col)
        products, channel_sums, value = sweep._combine(window)
    else:
        step = sweep[index]
        (row, col), products, channel_sums, value = step.out_pos, step.products, step.channel_sums, step.value
    where = sweep.position_label(row, col)
    # Only the numbers shown are formatted (issue 17: formatting every product of every frame was most of a sweep
    # animation's CPU); the text is the same.
    if sweep.op == "max":
        shown = _shown(products, max_terms, kind)
        return [f"output {where} = max of the {products.size} values under the window",
                f"max({', '.join(shown)})", f"result: {fmt_number(value, kind)}"]
    if sweep.op == "avg":
        shown = _shown(products, max_terms, kind)
        div = int(sweep.divisors((row, row + 1), (col, col + 1))[0, 0])
        return [f"output {where} = sum of the window / {div} cells counted",
                f"({' + '.join(shown)}) / {div}", f"result: {fmt_number(channel_sums[0], kind)} / {div} = "
                f"{value:.2f}".replace("-", "−")]
    words = sweep.labels
    over = " (over depth and channels)" if sweep.source_dims == 3 else ""
    lines = [f"{words.output} {where} = Σ {words.product}" + (" + bias" if sweep.has_bias else "") + over]
    cells = products.shape[1] * products.shape[2]
    window = sweep.window(row, col) if sweep.op != "conv" else window
    shown = cells if cells <= max_terms else max_terms - 1
    for n in range(min(max_channels, len(sweep.channels))):
        terms = _products(window[n].ravel()[:shown].tolist(),
                          _weights(tuple(sweep.kernel[n].ravel()[:shown].tolist()), kind), kind)
        if cells > max_terms:
            terms.append(f"… ({cells} products)")
        lines.append(f"{sweep.row_label(n)}: {' + '.join(terms)} = {fmt_number(channel_sums[n], kind)}")
    if len(sweep.channels) > max_channels:
        rest = channel_sums[max_channels:].sum()
        what = "depth slices" if sweep.source_dims == 3 else "channels"
        lines.append(f"… {len(sweep.channels) - max_channels} more {what}: {fmt_number(rest, kind)}")
    parts = [fmt_number(s, kind) for s in channel_sums[:max_channels]]
    if len(sweep.channels) > max_channels:
        parts.append(fmt_number(rest, kind))
    if sweep.has_bias or len(parts) > 1:
        bias = [f"bias {fmt_number(sweep.bias, kind)}"] if sweep.has_bias else []
        lines.append(f"result: {' + '.join(parts + bias)} = {fmt_number(value, kind)}")
    else:
        lines.append(f"result: {fmt_number(value, kind)}")
    return lines
