"""Max and average pooling as a sweep, with torch's rules (pure numpy).

torch's rules, all enforced here with plain-language errors: padding at most half the
kernel; no dilation for average pooling; out = ⌊(i + 2p − d·(k−1) − 1) / s⌋ + 1, or the
ceiling with ceil_mode, where the last window must still start inside the input or the
left padding. Max pooling pads with −∞; average pooling pads with zeros that count in the
divisor only with count_include_pad, and never counts the cells a ceil_mode window hangs
past the padding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.grid import INPUT, PADDING, check_grid_size
from conv_lab.core.params import as_pair
from conv_lab.core.shapes import check_pool_padding, pool_out
from conv_lab.sweep.steps import OUTSIDE, Sweep, SweepStep

POOL_OPS = ("max", "avg")


@dataclass(frozen=True)
class PoolSpec:
    """nn.MaxPool2d / nn.AvgPool2d settings in torch's names (validated on creation).

    >>> PoolSpec("max", 2, 2).output_hw((5, 5)), PoolSpec("max", 2, 2, ceil_mode=True).output_hw((5, 5))
    ((2, 2), (3, 3))
    """

    op: str
    kernel_size: tuple[int, int] | int
    stride: tuple[int, int] | int
    padding: tuple[int, int] | int = 0
    dilation: tuple[int, int] | int = 1
    ceil_mode: bool = False
    count_include_pad: bool = True
    dims: int = 2  # 1: MaxPool1d / AvgPool1d, swept as its one-row strip (kernel (1, k), padding (0, p))

    def __post_init__(self) -> None:
        for name in ("kernel_size", "stride", "padding", "dilation"):
            object.__setattr__(self, name, as_pair(getattr(self, name), name))
        if self.op not in POOL_OPS:
            raise ConvConfigError("op", f"'{self.op}' is not a pooling Conv Lab knows", "use op=max or op=avg")
        for name, lo in (("kernel_size", 1), ("stride", 1), ("dilation", 1), ("padding", 0)):
            if min(getattr(self, name)) < lo:
                raise ConvConfigError(name, f"{name} must be at least {lo} for pooling", f"use {name} ≥ {lo}")
        if self.op == "avg" and self.dilation != (1, 1):
            raise ConvConfigError("dilation", f"nn.AvgPool{self.dims}d has no dilation", "set dilation 1, or use max "
                                  "pooling")
        check_pool_padding(self.kernel_size, self.padding)

    @property
    def module_name(self) -> str:
        """'MaxPool2d' or 'AvgPool2d' (1d for a 1-D pool)."""
        return f"{'Max' if self.op == 'max' else 'Avg'}Pool{self.dims}d"

    def torch_kwargs(self) -> dict:
        """Keyword arguments for the torch module (a 1-D pool's: the strip's width entries)."""
        def own(pair):
            return pair[1:] if self.dims == 1 else pair

        kwargs = dict(kernel_size=own(self.kernel_size), stride=own(self.stride), padding=own(self.padding),
                      ceil_mode=self.ceil_mode)
        if self.op == "max":
            kwargs["dilation"] = own(self.dilation)
        else:
            kwargs["count_include_pad"] = self.count_include_pad
        return kwargs

    def output_hw(self, hw: tuple[int, int]) -> tuple[int, int]:
        """Output (H, W) by torch's pooling rule, or ConvConfigError when nothing comes out."""
        out = []
        for axis, i in enumerate(hw):
            k, s, p, d = self.kernel_size[axis], self.stride[axis], self.padding[axis], self.dilation[axis]
            n = pool_out(i, k, s, p, d, self.ceil_mode)
            if n < 1:
                raise ConvConfigError("kernel_size", f"the {d * (k - 1) + 1}-cell pooling window does not fit the "
                                      f"{i + 2 * p}-cell padded {('height', 'width')[axis]}",
                                      "use a smaller kernel or dilation, or a larger input")
            out.append(n)
        return out[0], out[1]


class PoolSweep(Sweep):
    """A pooling sweep over one channel: steps carry the values taken; `value` is their max or average.

    >>> s = pool_sweep(PoolSpec("avg", 2, 2, padding=1, count_include_pad=False), np.ones((1, 3, 3)))
    >>> s[0].value, int(s.divisors()[0, 0])
    (1.0, 1)
    """

    def __init__(self, grid, kinds, pool: PoolSpec, out_shape, channel: int, hw: tuple[int, int]):
        super().__init__(grid, kinds, np.ones((1, *pool.kernel_size)), None, pool.stride, pool.dilation, out_shape,
                         (channel,))
        self.pool, self.op, self.input_hw = pool, pool.op, hw

    def _counts(self, axis: int, lo: int, hi: int) -> np.ndarray:
        """Per output index along an axis: window cells counted by the divisor."""
        k, s, p = self.pool.kernel_size[axis], self.pool.stride[axis], self.pool.padding[axis]
        size = self.input_hw[axis]
        starts = np.arange(lo, hi) * s
        limit = size + 2 * p  # cells past the right padding never count
        if self.pool.count_include_pad:
            return np.minimum(starts + k, limit) - starts
        return np.minimum(starts + k, size + p) - np.maximum(starts, p)

    def divisors(self, rows: Optional[tuple[int, int]] = None, cols: Optional[tuple[int, int]] = None) -> np.ndarray:
        """Average pooling's divisor per output position (torch's rule)."""
        rows, cols = rows or (0, self.out_shape[0]), cols or (0, self.out_shape[1])
        return self._counts(0, *rows)[:, None] * self._counts(1, *cols)[None, :]

    def _step(self, index: int, row: int, col: int) -> SweepStep:
        window = self.window(row, col)
        if self.op == "max":
            value = float(window.max())
            sums = np.array([value])
        else:
            total = float(window.sum())
            sums = np.array([total])
            value = total / float(self.divisors((row, row + 1), (col, col + 1))[0, 0])
        return SweepStep(index, (row, col), self.tap_cells(row, col), window.copy(), sums, 0.0, value)

    def values(self, rows=None, cols=None) -> np.ndarray:
        """The pooled output (or a block of it), vectorised."""
        r0, r1 = rows or (0, self.out_shape[0])
        c0, c1 = cols or (0, self.out_shape[1])
        (kh, kw), (dh, dw), (sh, sw) = self.kernel_hw, self.dilation, self.stride
        taps = [self.grid[0, r0 * sh + i * dh:r0 * sh + i * dh + (r1 - r0 - 1) * sh + 1:sh,
                          c0 * sw + j * dw:c0 * sw + j * dw + (c1 - c0 - 1) * sw + 1:sw]
                for i in range(kh) for j in range(kw)]
        stack = np.stack(taps)
        if self.op == "max":
            return stack.max(axis=0)
        return stack.sum(axis=0) / self.divisors((r0, r1), (c0, c1))


def pool_sweep(pool: PoolSpec, x: np.ndarray, channel: int = 0) -> PoolSweep:
    """The sweep of `pool` over channel `channel` of x (C, H, W); values equal nn.MaxPool2d / nn.AvgPool2d.

    >>> [s.value for s in pool_sweep(PoolSpec("max", 2, 2), np.arange(16.).reshape(1, 4, 4))]
    [5.0, 7.0, 13.0, 15.0]
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3:
        raise ConvConfigError("input_shape", f"expected (C, H, W), got shape {x.shape}", "pass one image")
    if not 0 <= channel < x.shape[0]:
        raise ConvConfigError("channel", f"channel {channel} does not exist; the input has {x.shape[0]}",
                              f"pick a channel between 0 and {x.shape[0] - 1}")
    h, w = x.shape[1:]
    ho, wo = pool.output_hw((h, w))
    (ph, pw), (sh, sw) = pool.padding, pool.stride
    extra = [max(0, (n - 1) * s + (k - 1) * d + 1 - (i + 2 * p)) for n, s, k, d, i, p in
             zip((ho, wo), (sh, sw), pool.kernel_size, pool.dilation, (h, w), (ph, pw))]
    check_grid_size((h + 2 * ph + extra[0]) * (w + 2 * pw + extra[1]))
    fill = -np.inf if pool.op == "max" else 0.0
    grid = np.pad(x[channel:channel + 1], ((0, 0), (ph, ph + extra[0]), (pw, pw + extra[1])), constant_values=fill)
    kinds = np.full(grid.shape[1:], PADDING, np.uint8)
    kinds[ph:ph + h, pw:pw + w] = INPUT
    if extra[0]:
        kinds[-extra[0]:, :] = OUTSIDE
    if extra[1]:
        kinds[:, -extra[1]:] = OUTSIDE
    return PoolSweep(grid, kinds, pool, (ho, wo), channel, (h, w))
