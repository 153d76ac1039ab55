"""What the sweep page animates: seeded readable values for a LabConfig, the sweep, its arithmetic as text.

Values are small integers by default (inputs 0…9, weights −2…2, bias −3…3) so every product
can be checked by eye; `values="float"` switches to random floats with two decimals. Only the
channels the followed filter reads are generated, each from its own seed, so a layer with
many channels costs no more than its group. `torch_check` runs the real module on them.
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
from conv_lab.core.params import filter_channels
from conv_lab.core.state import LabConfig
from conv_lab.sweep.pooling import PoolSpec, pool_sweep
from conv_lab.sweep.steps import Sweep, sweep_steps

OPS = ("conv", "max", "avg")
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

    def pool_spec(self) -> PoolSpec:
        """The pooling layer made of the shared configuration's kernel, stride, padding and dilation."""
        c = self.config
        if c.transposed:
            raise ConvConfigError("transposed", "pooling has no transposed form", "switch off 'Transposed convolution' "
                                  "in the sidebar, or choose the convolution sweep")
        if c.padding == "same":
            raise ConvConfigError("padding", "pooling layers take no padding='same'", "choose a number for the padding")
        padding = (0, 0) if c.padding == "valid" else c.padding
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
    """The seeded input values of the given channels, shape (C, H, W) with the other channels left zero.

    >>> sweep_input(SweepRequest(LabConfig(in_channels=2, height=2, width=3)), (1,))[1]
    array([[6., 8., 8.],
           [2., 9., 2.]])
    """
    c = request.config
    if len(channels) * c.height * c.width > limits.MAX_SWEEP_GRID_CELLS:
        raise ConvConfigError("input_size", f"the sweep would read {len(channels) * c.height * c.width:,} input numbers, "
                              f"above Conv Lab's cap of {limits.MAX_SWEEP_GRID_CELLS:,}",
                              "use a smaller input or more groups (fewer channels per filter)")
    x = np.zeros((c.in_channels, c.height, c.width))
    for ch in channels:
        x[ch] = _values([request.seed, 1, ch], (c.height, c.width), request.values, 0, 9, 1.0)
    return x


@dataclass(frozen=True)
class ConvFilter:
    """The followed filter's weights (C_in/groups, kh, kw), bias and input channels."""

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
    weight = _values([request.seed, 2, o], (len(channels), *spec.kernel_hw), request.values, -2, 2, 0.5)
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
    if request.op == "conv":
        spec = request.config.spec()
        conv = conv_filter(request)
        x = sweep_input(request, conv.channels)
        return sweep_steps(spec, x, conv.weight, conv.bias, request.filter_index)
    pool = request.pool_spec()
    x = sweep_input(request, (request.filter_index,))
    return pool_sweep(pool, x, request.filter_index)


def grid_cells(request: SweepRequest, height: int | None = None, width: int | None = None) -> int:
    """Numbers in the grid the sweep builds on a height×width input, by arithmetic alone: the followed filter's group
    of channels padded (or zero-inserted, transposed), or the pooled channel with its padding and ceil_mode cells.

    >>> grid_cells(SweepRequest(LabConfig(in_channels=4, height=8, width=8, out_channels=4, groups=2, padding=(1, 1))))
    200
    """
    c = request.config
    h, w = height or c.height, width or c.width
    if request.op != "conv":
        pool = request.pool_spec()
        extra = [max(0, (n - 1) * s + (k - 1) * d + 1 - (i + 2 * p)) for n, s, k, d, i, p in
                 zip(pool.output_hw((h, w)), pool.stride, pool.kernel_size, pool.dilation, (h, w), pool.padding)]
        return (h + 2 * pool.padding[0] + extra[0]) * (w + 2 * pool.padding[1] + extra[1])
    spec = c.spec()
    rows, cols = sum(axis_placement(spec, 0, h)), sum(axis_placement(spec, 1, w))  # inner size + padding (or crop)
    return spec.in_channels // spec.groups * max(1, rows) * max(1, cols)


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
    h, w = c.height, c.width
    for _ in range(12):
        h, w = max(1, h // 2), max(1, w // 2)
        try:
            if request.op == "conv":
                c.spec().output_shape((1, c.in_channels, h, w))  # the layer still has an output
            if grid_cells(request, h, w) <= cap:
                fit = f"; e.g. input {c.in_channels}×{h}×{w} fits"
                break
        except ConvConfigError:
            break
    raise WorkCapError("input_size", f"the sweep's grid would hold {cells:,} numbers, above Conv Lab's cap of {cap:,} "
                       "for one sweep", f"use a smaller input, fewer channels per group or a smaller stride{fit}")


def torch_check(request: SweepRequest, rows: tuple[int, int], cols: tuple[int, int]) -> float:
    """Largest |sweep − real torch module| over a block of outputs (the module runs on the same values).

    >>> torch_check(SweepRequest(LabConfig(1, 5, 5, 1, padding=(1, 1))), (0, 5), (0, 5)) < 1e-9
    True
    """
    import torch
    import torch.nn.functional as F
    from torch import nn

    sweep = build_sweep(request)
    first, last = sweep.channels[0], sweep.channels[-1]
    x = torch.from_numpy(sweep_input(request, sweep.channels)[first:last + 1]).unsqueeze(0)
    if request.op == "conv":
        spec = request.config.spec()
        conv = conv_filter(request)
        kwargs = {**spec.torch_kwargs(), "in_channels": len(conv.channels), "out_channels": 1, "groups": 1}
        module = (nn.ConvTranspose2d if spec.transposed else nn.Conv2d)(**kwargs).double()
        with torch.no_grad():
            weight = torch.from_numpy(conv.weight)
            module.weight.copy_(weight.unsqueeze(1) if spec.transposed else weight.unsqueeze(0))
            if module.bias is not None:
                module.bias.fill_(conv.bias)
    else:
        pool = request.pool_spec()
        module = (nn.MaxPool2d if pool.op == "max" else nn.AvgPool2d)(**pool.torch_kwargs())
    with torch.no_grad():
        if isinstance(module, nn.Conv2d):
            # The module's own forward for a padded conv (torch pads with F.pad, then convolves with padding 0), run
            # over only the padded rows and columns the block's windows read: the whole map in float64 took up to
            # 0.5 s per rerun for a 256-channel 125×125 grid (issue 17).
            pads = module._reversed_padding_repeated_twice
            mode = "constant" if module.padding_mode == "zeros" else module.padding_mode
            grid = F.pad(x, pads, mode=mode) if any(pads) else x
            (sh, sw), (dh, dw), (kh, kw) = module.stride, module.dilation, module.kernel_size
            grid = grid[..., rows[0] * sh:(rows[1] - 1) * sh + dh * (kh - 1) + 1,
                        cols[0] * sw:(cols[1] - 1) * sw + dw * (kw - 1) + 1]
            real = F.conv2d(grid, module.weight, module.bias, module.stride, 0, module.dilation)[0, 0].numpy()
        else:
            real = module(x)[0, 0].numpy()[rows[0]:rows[1], cols[0]:cols[1]]
    return float(np.abs(real - sweep.values(rows, cols)).max())


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


def step_lines(sweep: Sweep, index: int, kind: str, max_channels: int = 3, max_terms: int = 9) -> list[str]:
    """The arithmetic of one step as short text lines (products, per-channel sums, bias, result).

    >>> step_lines(build_sweep(SweepRequest(LabConfig(1, 3, 3, 1, kernel_size=(2, 2), bias=False))), 0, "int")
    ['output (0, 0) = Σ input × weight', 'ch 0: 5×2 + 8×(−2) + 5×(−1) + 3×0 = −11', 'result: −11']
    """
    step = sweep[index]
    row, col = step.out_pos
    # Only the numbers shown are formatted (issue 17: formatting every product of every frame was most of a sweep
    # animation's CPU); the text is the same.
    if sweep.op == "max":
        shown = _shown(step.products, max_terms, kind)
        return [f"output ({row}, {col}) = max of the {step.products.size} values under the window",
                f"max({', '.join(shown)})", f"result: {fmt_number(step.value, kind)}"]
    if sweep.op == "avg":
        shown = _shown(step.products, max_terms, kind)
        div = int(sweep.divisors((row, row + 1), (col, col + 1))[0, 0])
        return [f"output ({row}, {col}) = sum of the window / {div} cells counted",
                f"({' + '.join(shown)}) / {div}", f"result: {fmt_number(step.channel_sums[0], kind)} / {div} = "
                f"{step.value:.2f}".replace("-", "−")]
    words = sweep.labels
    lines = [f"{words.output} ({row}, {col}) = Σ {words.product}" + (" + bias" if sweep.has_bias else "")]
    cells = step.products.shape[1] * step.products.shape[2]
    window = sweep.window(row, col)
    for n, ch in enumerate(sweep.channels[:max_channels]):
        shown = cells if cells <= max_terms else max_terms - 1
        terms = [f"{_factor(a, kind)}×{_factor(w, kind)}"
                 for a, w in zip(window[n].ravel()[:shown].tolist(), sweep.kernel[n].ravel()[:shown].tolist())]
        if cells > max_terms:
            terms.append(f"… ({cells} products)")
        lines.append(f"ch {ch}: {' + '.join(terms)} = {fmt_number(step.channel_sums[n], kind)}")
    if len(sweep.channels) > max_channels:
        rest = step.channel_sums[max_channels:].sum()
        lines.append(f"… {len(sweep.channels) - max_channels} more channels: {fmt_number(rest, kind)}")
    parts = [fmt_number(s, kind) for s in step.channel_sums[:max_channels]]
    if len(sweep.channels) > max_channels:
        parts.append(fmt_number(rest, kind))
    if sweep.has_bias or len(parts) > 1:
        bias = [f"bias {fmt_number(step.bias, kind)}"] if sweep.has_bias else []
        lines.append(f"result: {' + '.join(parts + bias)} = {fmt_number(step.value, kind)}")
    else:
        lines.append(f"result: {fmt_number(step.value, kind)}")
    return lines
