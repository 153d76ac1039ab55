"""The backward pass of one conv layer, built the way the /gradients page explains it (never by autograd).

For a direct layer y = conv(pad(x), w), with loss gradient g = ∂L/∂y:

- **grad_input**: g is zero-inserted by the stride (s−1 zeros between its cells), padded by d·(k−1) on each side
  (plus the r trailing cells no window covered, on the far side), and correlated at stride 1 with the *flipped*
  kernel whose in/out channels are swapped inside each group. That gives the gradient of the *padded* input; the
  padded cells are then scattered back (`scatter_padding`): zeros padding drops them, reflect / replicate /
  circular padding adds each one to the input cell it was copied from. The r uncovered trailing cells get 0.
- **grad_weight**: the padded input correlated with g dilated by the stride (g's cells s apart, the kernel taps'
  offsets d apart), one channel pair at a time (groups keep to their own channels).
- **grad_bias**: g summed over the batch and every position.

A transposed layer is the mirror image: its grad_input is the *direct* convolution of g with the same weights
(padding p, stride s, dilation d), and its grad_weight correlates the padded g with x dilated by the stride.
Everything is plain tensor arithmetic (F.pad, index_add_, F.conv1d/2d/3d with explicit flips), for 1-D, 2-D and
3-D layers alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import torch
import torch.nn.functional as F

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import LayerSpec
from conv_lab.core.shapes import check_input, output_shape

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


@dataclass(frozen=True)
class Gradients:
    """∂L/∂x, ∂L/∂w and ∂L/∂b (None without a bias), shaped like x, the weight and the bias."""

    grad_input: torch.Tensor
    grad_weight: torch.Tensor
    grad_bias: Optional[torch.Tensor]


def _tensor(value: Any, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach()
    try:
        return torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ConvConfigError(name, f"{name} is not an array of numbers ({exc})", f"pass a tensor for {name}") from exc


def weight_shape(spec: LayerSpec) -> tuple[int, ...]:
    """The shape torch gives the layer's weight.

    >>> from conv_lab import ConvSpec
    >>> weight_shape(ConvSpec(4, 6, 3, groups=2)), weight_shape(ConvSpec(4, 6, (3, 5), groups=2, transposed=True))
    ((6, 2, 3, 3), (4, 3, 3, 5))
    """
    if spec.transposed:
        return (spec.in_channels, spec.out_channels // spec.groups, *spec.kernel_nd)
    return (spec.out_channels, spec.in_channels // spec.groups, *spec.kernel_nd)


def padding_sources(size: int, before: int, after: int, mode: str) -> torch.Tensor:
    """For each cell of one padded axis, the input cell it holds a copy of (−1: a zero, no input cell).

    >>> padding_sources(4, 2, 1, "reflect").tolist(), padding_sources(4, 2, 1, "zeros").tolist()
    ([2, 1, 0, 1, 2, 3, 2], [-1, -1, 0, 1, 2, 3, -1])
    >>> padding_sources(3, 2, 2, "replicate").tolist(), padding_sources(3, 2, 2, "circular").tolist()
    ([0, 0, 0, 1, 2, 2, 2], [1, 2, 0, 1, 2, 0, 1])
    """
    cells = torch.arange(-before, size + after)
    if mode == "zeros":
        return torch.where((cells >= 0) & (cells < size), cells, torch.full_like(cells, -1))
    if mode == "replicate":
        return cells.clamp(0, size - 1)
    if mode == "circular":
        return cells % size
    reflected = cells.abs()  # reflect without repeating the edge: −1 → 1, size → size − 2
    return torch.where(reflected > size - 1, 2 * (size - 1) - reflected, reflected)


def scatter_padding(grad_padded: torch.Tensor, sizes: tuple[int, ...], pairs: tuple[tuple[int, int], ...],
                    mode: str) -> torch.Tensor:
    """The gradient of the input from the gradient of the padded input: every padded cell's gradient is added to the
    input cell it copied (reflect / replicate / circular), or dropped (zeros), one spatial axis at a time.

    >>> g = torch.tensor([[[1., 10., 100., 1000.]]])  # 1 sample, 1 channel, a 2-cell input padded 1 each side
    >>> scatter_padding(g, (2,), ((1, 1),), "reflect").tolist(), scatter_padding(g, (2,), ((1, 1),), "zeros").tolist()
    ([[[1010.0, 101.0]]], [[[10.0, 100.0]]])
    """
    out = grad_padded
    for axis, (size, (before, after)) in enumerate(zip(sizes, pairs)):
        dim = 2 + axis
        sources = padding_sources(size, before, after, mode)
        keep = sources >= 0
        shape = list(out.shape)
        shape[dim] = size
        folded = torch.zeros(shape, dtype=out.dtype)
        folded.index_add_(dim, sources[keep], out.index_select(dim, torch.nonzero(keep).flatten()))
        out = folded
    return out


def zero_insert(grad_output: torch.Tensor, strides: tuple[int, ...]) -> torch.Tensor:
    """The output gradient with s−1 zeros between neighbouring cells along every spatial axis.

    >>> zero_insert(torch.tensor([[[1., 2., 3.]]]), (2,)).tolist()
    [[[1.0, 0.0, 2.0, 0.0, 3.0]]]
    """
    sizes = grad_output.shape[2:]
    spread = torch.zeros((*grad_output.shape[:2], *((n - 1) * s + 1 for n, s in zip(sizes, strides))),
                         dtype=grad_output.dtype)
    spread[(slice(None), slice(None), *(slice(None, None, s) for s in strides))] = grad_output
    return spread


def swapped_flipped(spec: LayerSpec, weight: torch.Tensor) -> torch.Tensor:
    """A direct layer's weight (C_out, C_in/g, k…) as the kernel of its input gradient: (C_in, C_out/g, k…), in/out
    channels swapped inside each group, every spatial axis flipped.

    >>> from conv_lab import ConvSpec
    >>> swapped_flipped(ConvSpec(2, 4, 2, groups=2, dims=1), torch.arange(8.).reshape(4, 1, 2)).tolist()
    [[[1.0, 0.0], [3.0, 2.0]], [[5.0, 4.0], [7.0, 6.0]]]
    """
    g, n = spec.groups, spec.dims
    per_out, per_in = spec.out_channels // g, spec.in_channels // g
    swapped = weight.reshape(g, per_out, per_in, *weight.shape[2:]).transpose(1, 2)
    return swapped.reshape(spec.in_channels, per_out, *weight.shape[2:]).flip(list(range(2, 2 + n)))


def padded_input_gradient(spec: LayerSpec, grad_output: torch.Tensor, weight: torch.Tensor,
                          padded_sizes: tuple[int, ...]) -> torch.Tensor:
    """∂L/∂(padded x) of a direct layer: g zero-inserted, padded by d·(k−1) (+ the uncovered cells after), correlated
    at stride 1 with the flipped, channel-swapped kernel.

    >>> from conv_lab import ConvSpec
    >>> padded_input_gradient(ConvSpec(1, 1, 2, stride=2, dims=1), torch.tensor([[[1., 2.]]]),
    ...                       torch.tensor([[[10., 1.]]]), (5,)).tolist()
    [[[10.0, 1.0, 20.0, 2.0, 0.0]]]
    """
    spread = zero_insert(grad_output, spec.stride_nd)
    pads: list[int] = []
    for padded, k, d, inner in zip(padded_sizes, spec.kernel_nd, spec.dilation_nd, spread.shape[2:]):
        reach = d * (k - 1)
        uncovered = padded - reach - inner  # trailing cells of the padded input no window reached: gradient 0
        pads.append((reach, reach + uncovered))
    flat = [v for pair in reversed(pads) for v in pair]  # F.pad takes the last axis first
    return CONV[spec.dims](F.pad(spread, flat), swapped_flipped(spec, weight), None, 1, 0, spec.dilation_nd,
                           spec.groups)


def correlate_for_weight(grid: torch.Tensor, taps: torch.Tensor, groups: int, strides: tuple[int, ...],
                         dilations: tuple[int, ...], kernel: tuple[int, ...]) -> torch.Tensor:
    """Σ over the batch and positions i of grid[c, t·d + i·s] · taps[o, i], for every channel pair of a group:
    (taps channels, grid channels / groups, k…). `taps` slides *dilated by the stride*, its offsets t are d apart.

    >>> correlate_for_weight(torch.tensor([[[1., 2., 3., 4., 5.]]]), torch.tensor([[[1., 10.]]]), 1, (2,), (1,), (2,))
    tensor([[[31., 42.]]])
    """
    n_batch, n_grid = grid.shape[:2]
    per_grid = n_grid // groups
    # batch ← the channel inside its group; channels ← (group, sample): one grouped conv does every pair at once
    lhs = grid.reshape(n_batch, groups, per_grid, *grid.shape[2:]).permute(2, 1, 0, *range(3, grid.dim() + 1))
    lhs = lhs.reshape(per_grid, groups * n_batch, *grid.shape[2:])
    rhs = taps.transpose(0, 1)  # (taps channels, batch, …): the "kernel"
    out = CONV[len(kernel)](lhs, rhs, None, dilations, 0, strides, groups)  # stride d, dilation s
    out = out[(slice(None), slice(None), *(slice(0, k) for k in kernel))]  # past k: only uncovered cells
    return out.transpose(0, 1).contiguous()


def gradients(spec: LayerSpec, x: Any, weight: Any, grad_output: Any, bias: Any = None) -> Gradients:
    """∂L/∂x, ∂L/∂w, ∂L/∂b of `spec` for input x (N, C, …), its weight and g = ∂L/∂y, built explicitly (no autograd).

    >>> from conv_lab import ConvSpec
    >>> spec = ConvSpec(1, 1, 2, stride=2, dims=1)
    >>> grads = gradients(spec, [[[1., 2., 3., 4., 5.]]], [[[10., 1.]]], [[[1., 2.]]], bias=[0.])
    >>> grads.grad_input.tolist(), grads.grad_weight.tolist(), grads.grad_bias.tolist()
    ([[[10.0, 1.0, 20.0, 2.0, 0.0]]], [[[7.0, 10.0]]], [3.0])
    """
    x, weight, grad_output = _tensor(x, "x"), _tensor(weight, "weight"), _tensor(grad_output, "grad_output")
    n = spec.dims
    if x.dim() == n + 1:
        x, grad_output = x.unsqueeze(0), grad_output.unsqueeze(0) if grad_output.dim() == n + 1 else grad_output
    check_input(spec, tuple(x.shape))
    expected = output_shape(spec, tuple(x.shape))
    for name, tensor, shape in (("weight", weight, weight_shape(spec)), ("grad_output", grad_output, expected)):
        if tuple(tensor.shape) != tuple(shape):
            raise ConvConfigError(name, f"{name} has shape {tuple(tensor.shape)}, but this layer needs {tuple(shape)}",
                                  f"pass a {name} of shape {tuple(shape)}")
    dtype = torch.promote_types(torch.promote_types(x.dtype, weight.dtype), grad_output.dtype)
    x, weight, grad_output = x.to(dtype), weight.to(dtype), grad_output.to(dtype)
    sizes = tuple(x.shape[2:])
    if spec.transposed:
        grad_input = _transposed_input_gradient(spec, grad_output, weight, sizes)
        grad_pad = F.pad(grad_output, [p for before, after in reversed(spec.pad_pairs()) for p in (before, after)])
        grad_weight = correlate_for_weight(grad_pad, x, spec.groups, spec.stride_nd, spec.dilation_nd, spec.kernel_nd)
    else:
        pairs = spec.pad_pairs()
        padded_sizes = tuple(size + before + after for size, (before, after) in zip(sizes, pairs))
        grad_padded = padded_input_gradient(spec, grad_output, weight, padded_sizes)
        grad_input = scatter_padding(grad_padded, sizes, pairs, spec.padding_mode)
        mode = "constant" if spec.padding_mode == "zeros" else spec.padding_mode
        flat = [p for before, after in reversed(pairs) for p in (before, after)]
        padded = F.pad(x, flat, mode=mode) if any(flat) else x
        grad_weight = correlate_for_weight(padded, grad_output, spec.groups, spec.stride_nd, spec.dilation_nd,
                                           spec.kernel_nd)
    grad_bias = grad_output.sum(dim=[0, *range(2, 2 + n)]) if bias is not None else None
    return Gradients(grad_input, grad_weight, grad_bias)


def _transposed_input_gradient(spec: LayerSpec, grad_output: torch.Tensor, weight: torch.Tensor,
                               sizes: tuple[int, ...]) -> torch.Tensor:
    """A transposed layer's ∂L/∂x: the direct conv of g with the same weights (padding p, stride s, dilation d)."""
    flat = [p for before, after in reversed(spec.pad_pairs()) for p in (before, after)]
    direct = CONV[spec.dims](F.pad(grad_output, flat), weight, None, spec.stride_nd, 0, spec.dilation_nd, spec.groups)
    return direct[(slice(None), slice(None), *(slice(0, size) for size in sizes))]  # output_padding ≥ s: extra windows
