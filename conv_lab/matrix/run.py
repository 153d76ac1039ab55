"""The real modules beside the matrix view: y = C·x, Cᵀ = conv_transpose1d/2d, im2col (unfold) and col2im (fold).

Every result here is set beside the real torch module or functional call, with the largest difference.
A 1-D layer's tensors are kept as one-row grids (C, 1, L) beside the 2-D ones, but every torch call on them is the
real 1-D one (nn.Conv1d with its causal F.pad, F.conv1d, F.conv_transpose1d) on the squeezed tensors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from conv_lab import limits
from conv_lab.byte_cache import byte_lru_cache
from conv_lab.core.params import filter_channels
from conv_lab.core.spec import ConvSpec
from conv_lab.core.torch_run import build_module, run_layer
from conv_lab.matrix.geometry import ZERO, MatrixGeometry, conv_matrix, fold_padding, geometry, tap_ids

_TORCH_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


@dataclass(frozen=True)
class MatrixExample:
    """One run of the real layer on an input, and the same output computed as a matrix product."""

    geom: MatrixGeometry
    weight: np.ndarray  # the module's weight (for a transposed layer it is also the direct conv's weight)
    bias: np.ndarray  # one per output channel of the layer (zeros when bias=False)
    x: np.ndarray  # the layer's input (C, H, W); a 1-D layer's as (C, 1, L)
    y_module: np.ndarray  # the real module's output
    y_matrix: np.ndarray  # C·x + b (direct) or Cᵀ·x + b (transposed), reshaped
    matrix: np.ndarray  # C over the input cells
    padded_matrix: np.ndarray  # C_pad over the padded grid

    @property
    def max_error(self) -> float:
        """Largest |matrix result − module output|."""
        return float(np.abs(self.y_matrix - self.y_module).max())


def _pad(x: torch.Tensor, geom: MatrixGeometry) -> torch.Tensor:
    """The padded grid of a (N, C, H, W) tensor; a 1-D layer's row is padded by the 1-D F.pad, as its layer does."""
    top, bottom, left, right = geom.pads
    mode = _TORCH_PAD_MODE[geom.direct.padding_mode]
    if geom.dims == 1:
        return F.pad(x[:, :, 0], (left, right), mode=mode)[:, :, None]
    return F.pad(x, (left, right, top, bottom), mode=mode)


def _functional(geom: MatrixGeometry, transpose: bool, x: torch.Tensor, w: torch.Tensor, **kwargs) -> torch.Tensor:
    """F.conv2d / F.conv_transpose2d on (N, C, H, W); a 1-D layer runs F.conv1d / F.conv_transpose1d on its row."""
    if geom.dims == 1:
        one = {key: value[1:] if isinstance(value, tuple) else value for key, value in kwargs.items()}
        return (F.conv_transpose1d if transpose else F.conv1d)(x[:, :, 0], w[:, :, 0], **one)[:, :, None]
    return (F.conv_transpose2d if transpose else F.conv2d)(x, w, **kwargs)


def _arg(geom: MatrixGeometry, pair: tuple[int, int]) -> str:
    """A (h, w) argument as the layer's torch call writes it: one number for 1-D or a square pair."""
    if geom.dims == 1:
        return f"{pair[1]}"
    return f"{pair[0]}" if pair[0] == pair[1] else f"{pair}"


@byte_lru_cache(limits.MATRIX_CACHE_BYTES, maxsize=limits.MATRIX_CACHED_LAYERS)
def matrix_example(spec: ConvSpec, height: int, width: int, seed: int = 0, whole_numbers: bool = True) -> MatrixExample:
    """Run the real layer and compute its output as C·x (+ bias); whole-number weights keep it readable.

    >>> ex = matrix_example(ConvSpec(1, 1, 3), 4, 4)
    >>> ex.matrix.shape, ex.y_module.shape, ex.max_error
    ((4, 16), (1, 2, 2), 0.0)
    >>> ex = matrix_example(ConvSpec(1, 2, 3, padding="causal", dims=1), 1, 5)
    >>> ex.matrix.shape, ex.y_module.shape, ex.max_error
    ((10, 5), (2, 1, 5), 0.0)
    """
    geom = geometry(spec, height, width)
    module = build_module(spec, seed)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn((1, spec.in_channels, *geom.sizes(geom.out_hw if spec.transposed else geom.grid_hw)),
                    generator=generator)
    if whole_numbers:  # small whole numbers: every sum is exact in float32 and readable on a slide
        choices = torch.tensor([-2.0, -1.0, 1.0, 2.0])
        with torch.no_grad():
            module.weight.copy_(choices[torch.randint(0, 4, module.weight.shape, generator=generator)])
            if module.bias is not None:
                module.bias.copy_(torch.randint(-2, 3, module.bias.shape, generator=generator).float())
        x = torch.randint(0, 6, x.shape, generator=generator).float()
    with torch.no_grad():
        y = run_layer(spec, module, x)[0].double().numpy()  # causal: F.pad on the left, then the Conv1d
    weight = module.weight.detach().double().numpy()
    weight = weight.reshape(*weight.shape[:2], *geom.direct.kernel_hw)  # a 1-D kernel as one row
    bias = module.bias.detach().double().numpy() if module.bias is not None else np.zeros(spec.out_channels)
    padded = conv_matrix(geom, weight, padded=True)
    matrix = fold_padding(padded, geom)
    x_grid = x[0].double().numpy().reshape(spec.in_channels, -1, x.shape[-1])
    y = y.reshape(spec.out_channels, -1, y.shape[-1])
    flat = x_grid.ravel()
    result = matrix.T @ flat if spec.transposed else matrix @ flat
    y_matrix = result.reshape(y.shape) + bias[:, None, None]
    return MatrixExample(geom, weight, bias, x_grid, y, y_matrix, matrix, padded)


@dataclass(frozen=True)
class TransposeCheck:
    """The matrix's other direction applied to a tensor, beside the torch call that computes it."""

    code: str  # the torch call, as a learner would type it
    tensor: np.ndarray  # the tensor the other direction is applied to
    by_matrix: np.ndarray  # Cᵀ·y (direct layer) or C·z (transposed layer)
    by_torch: np.ndarray
    output_padding: tuple[int, int]
    note: str

    @property
    def max_error(self) -> float:
        """Largest |matrix result − torch result|."""
        return float(np.abs(self.by_matrix - self.by_torch).max())


def _output_padding(geom: MatrixGeometry) -> tuple[int, int]:
    """output_padding that makes conv_transpose2d cover the whole padded grid: the rows/cols the stride skipped."""
    d = geom.direct
    result = []
    for a in (0, 1):
        reached = (geom.out_hw[a] - 1) * d.stride_hw[a] + d.dilation_hw[a] * (d.kernel_hw[a] - 1) + 1
        result.append(geom.padded_hw[a] - reached)
    return result[0], result[1]


def transpose_check(example: MatrixExample, seed: int = 1) -> TransposeCheck:
    """Direct layer: Cᵀ·y beside F.conv_transpose1d/2d(y, weight, …, output_padding); transposed layer: C·z beside
    F.conv1d/2d.

    >>> check = transpose_check(matrix_example(ConvSpec(1, 1, 3, stride=2, padding=1), 6, 6))
    >>> check.output_padding, check.by_torch.shape, check.max_error
    ((1, 1), (1, 6, 6), 0.0)
    """
    geom, w = example.geom, torch.from_numpy(example.weight)
    d, n = geom.direct, geom.dims
    generator = torch.Generator().manual_seed(seed)
    top, bottom, left, right = geom.pads
    kwargs = f"stride={_arg(geom, d.stride_hw)}, dilation={_arg(geom, d.dilation_hw)}, groups={d.groups}"
    if example.geom.layer.transposed:  # the other direction of a transposed layer is the direct conv
        z = torch.randint(-3, 4, (1, d.in_channels, *geom.grid_hw), generator=generator).double()
        full = _functional(geom, False, _pad(z, geom), w, stride=d.stride_hw, dilation=d.dilation_hw, groups=d.groups)
        by_torch = full[0, :, :geom.out_hw[0], :geom.out_hw[1]].numpy()
        by_matrix = (example.matrix @ z.numpy().ravel()).reshape(by_torch.shape)
        note = ""
        if full.shape[-2:] != by_torch.shape[-2:]:
            note = (f"F.conv{n}d gives {geom.sizes(tuple(full.shape[-2:]))}: output_padding ≥ stride adds whole windows "
                    f"the layer's input does not have, so only the first {geom.sizes(tuple(by_torch.shape[-2:]))} "
                    "cells are C's rows")
        code = f"F.conv{n}d(z, layer.weight, padding={d.padding!r}, {kwargs})"
        return TransposeCheck(code, z[0].numpy(), by_matrix, by_torch, (0, 0), note)
    y = torch.randint(-3, 4, (1, d.out_channels, *geom.out_hw), generator=generator).double()
    by_matrix = (example.matrix.T @ y.numpy().ravel()).reshape(d.in_channels, *geom.grid_hw)
    symmetric = (top, left) == (bottom, right) and d.padding_mode == "zeros"
    padding = (top, left) if symmetric else (0, 0)
    op = _output_padding(geom)
    raw = _functional(geom, True, y, w, stride=d.stride_hw, padding=padding, output_padding=op,
                      dilation=d.dilation_hw, groups=d.groups)[0]
    code = (f"F.conv_transpose{n}d(y, layer.weight, padding={_arg(geom, padding)}, output_padding={_arg(geom, op)}, "
            f"{kwargs})")
    if symmetric:
        by_torch, note = raw.numpy(), ""
    elif d.padding_mode == "zeros":
        by_torch = raw[:, top:top + geom.grid_hw[0], left:left + geom.grid_hw[1]].numpy()
        sides = "causal padding puts every zero on the left" if d.padding == "causal" else (
            f"the padding {geom.pads if n == 2 else (left, right)} is not the same on both sides")
        note = (f"{sides}, which conv_transpose{n}d cannot take: it runs with padding=0 over the padded grid and the "
                "padding " + ("positions are" if n == 1 else "rows/columns are") + " cut off")
        code += (f"[..., {left}:{left + geom.grid_hw[1]}]" if n == 1 else
                 f"[..., {top}:{top + geom.grid_hw[0]}, {left}:{left + geom.grid_hw[1]}]")
    else:
        folded = fold_padding(raw.numpy().ravel(), geom)
        by_torch = folded.reshape(by_matrix.shape)
        note = (f"with {d.padding_mode} padding the padding cells are copies of input cells, so Cᵀ = Pᵀ·C_padᵀ: "
                f"conv_transpose{n}d runs over the padded grid (padding=0), then each padding cell's value is added "
                "back onto the input cell it copied")
        code += "  # then fold the padding cells back: Pᵀ·(…)"
    return TransposeCheck(code, y[0].numpy(), by_matrix, by_torch, op, note)


@dataclass(frozen=True)
class Im2col:
    """The way libraries compute it: patches (unfold) times the filter matrix; transposed: fold(filtersᵀ·x)."""

    patches: np.ndarray  # direct: (C_in·kh·kw, output cells); transposed: the columns before fold
    filters: np.ndarray  # (C_out, C_in·kh·kw), block-diagonal with groups
    product: np.ndarray  # the layer's output computed this way (C, H, W)
    input_bytes: int
    patches_bytes: int
    code: str

    @property
    def ratio(self) -> float:
        """How many times larger the patch matrix is than the input."""
        return self.patches_bytes / self.input_bytes


def filter_matrix(geom: MatrixGeometry, weight: np.ndarray) -> np.ndarray:
    """Each filter flattened to a row, over all input channels (zeros outside its group).

    >>> filter_matrix(geometry(ConvSpec(2, 2, 1, groups=2), 1, 1), np.array([[[[3.]]], [[[4.]]]]))
    array([[3., 0.],
           [0., 4.]])
    """
    d = geom.direct
    taps = d.kernel_hw[0] * d.kernel_hw[1]
    matrix = np.zeros((d.out_channels, d.in_channels * taps))
    for o in range(d.out_channels):
        channels = filter_channels(d.in_channels, d.out_channels, d.groups, o)
        matrix[o, channels.start * taps:channels.stop * taps] = np.asarray(weight[o], dtype=float).ravel()
    return matrix


def im2col(example: MatrixExample) -> Im2col:
    """unfold → patch matrix, filter matrix · patches (+ bias) = the module's output; col2im for a transposed layer.
    A 1-D layer is unfolded as a one-row image (kernel (1, k)): that is how torch itself lowers conv1d.

    >>> example = matrix_example(ConvSpec(1, 1, 3), 4, 4); result = im2col(example)
    >>> result.patches.shape, result.patches_bytes, float(np.abs(result.product - example.y_module).max())
    ((9, 4), 144, 0.0)
    """
    geom = example.geom
    d, one = geom.direct, geom.dims == 1
    filters = filter_matrix(geom, example.weight)
    x = torch.from_numpy(example.x)[None]
    k, dil, s = (f"{d.kernel_hw}", f"{d.dilation_hw}", f"{d.stride_hw}") if one else (
        f"{d.kernel_size}", f"{d.dilation}", f"{d.stride}")
    out_sizes = ", ".join(str(v) for v in geom.sizes(geom.out_hw))
    if not geom.layer.transposed:
        patches = F.unfold(_pad(x, geom), d.kernel_hw, dilation=d.dilation_hw, stride=d.stride_hw)[0].numpy()
        product = (filters @ patches).reshape(d.out_channels, *geom.out_hw) + example.bias[:, None, None]
        padded = f"F.pad(x, {_pad_tuple(geom)})" + (".unsqueeze(2)" if one else "")
        code = (f"cols = F.unfold({padded}, kernel_size={k}, dilation={dil}, stride={s})\n"
                f"y = (layer.weight.view({d.out_channels}, -1) @ cols).view(1, {d.out_channels}, {out_sizes}) + "
                f"layer.bias.view(1, -1, {'1' if one else '1, 1'})")
        return Im2col(patches, filters, product, 4 * x.numel(), 4 * patches.size, _grouped(code, d))
    # Transposed: x is the direct conv's output; scatter each cell's kernel-weighted copy, then fold (col2im).
    hp, wp = geom.padded_hw
    full_out = ((hp - d.dilation_hw[0] * (d.kernel_hw[0] - 1) - 1) // d.stride_hw[0] + 1,
                (wp - d.dilation_hw[1] * (d.kernel_hw[1] - 1) - 1) // d.stride_hw[1] + 1)
    extended = torch.zeros((1, d.out_channels, *full_out), dtype=torch.float64)
    extended[..., :geom.out_hw[0], :geom.out_hw[1]] = x
    cols = filters.T @ extended[0].reshape(d.out_channels, -1).numpy()
    folded = F.fold(torch.from_numpy(cols)[None], (hp, wp), d.kernel_hw, dilation=d.dilation_hw, stride=d.stride_hw)
    top, _, left, _ = geom.pads
    (h, w) = geom.grid_hw
    product = folded[0, :, top:top + h, left:left + w].numpy() + example.bias[:, None, None]
    crop = f"[..., 0, {left}:{left + w}]" if one else f"[..., {top}:{top + h}, {left}:{left + w}]"
    code = (f"cols = layer.weight.view({d.out_channels}, -1).T @ x.view({d.out_channels}, -1)\n"
            f"y = F.fold(cols, output_size={(hp, wp)}, kernel_size={k}, dilation={dil}, stride={s}){crop} + bias")
    return Im2col(cols, filters, product, 4 * x.numel(), 4 * cols.size, _grouped(code, d))


def _pad_tuple(geom: MatrixGeometry) -> str:
    top, bottom, left, right = geom.pads
    mode = geom.direct.padding_mode
    sides = f"({left}, {right})" if geom.dims == 1 else f"({left}, {right}, {top}, {bottom})"
    return sides + ("" if mode == "zeros" else f", mode='{_TORCH_PAD_MODE[mode]}'")


def _grouped(code: str, direct: ConvSpec) -> str:
    """With groups the filter matrix is block-diagonal, not a plain view of the weight."""
    if direct.groups == 1:
        return code
    return code.replace(f"layer.weight.view({direct.out_channels}, -1)", "W_blocks") + \
        f"\n# W_blocks: the {direct.groups} groups' filter matrices on the diagonal, zeros elsewhere"


@dataclass(frozen=True)
class MatrixBundle:
    """Everything the /matrix page computes for one layer and input size, computed once and cached."""

    example: MatrixExample
    taps: np.ndarray  # tap ids of C over the input cells (int16)
    padded_taps: np.ndarray  # tap ids of C_pad
    check: TransposeCheck
    im2col: Im2col

    def tap_ids(self, padded: bool) -> np.ndarray:
        """Tap ids of C_pad (padded) or C."""
        return self.padded_taps if padded else self.taps

    def nonzero(self, padded: bool) -> int:
        """How many entries of C (or C_pad) hold a weight."""
        return int(np.count_nonzero(self.tap_ids(padded) != ZERO))


@byte_lru_cache(limits.MATRIX_CACHE_BYTES, maxsize=limits.MATRIX_CACHED_LAYERS)
def matrix_bundle(spec: ConvSpec, height: int, width: int) -> MatrixBundle:
    """The page's example run, C's tap ids (with and without padding columns), the Cᵀ check and im2col, cached.

    >>> b = matrix_bundle(ConvSpec(1, 1, 3), 4, 4)
    >>> b.taps.shape, b.nonzero(padded=False), b.check.max_error
    ((4, 16), 36, 0.0)
    """
    example = matrix_example(spec, height, width)
    geom = example.geom
    return MatrixBundle(example, tap_ids(geom).astype(np.int16), tap_ids(geom, padded=True).astype(np.int16),
                        transpose_check(example), im2col(example))
