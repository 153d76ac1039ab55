"""The 2-D view of any layer, for the pages that draw grids: a 1-D layer is a one-row strip, a 3-D layer its H×W plane.

The sweep, the padded-grid picture and the matrix draw a 2-D grid. `plane_view` gives them a layer with the
same fields as a 2-D `ConvSpec` (dims 2, its own padding per side, so a causal strip keeps its left-only
padding, which no 2-D ConvSpec can say), so that code serves every dimension. A 3-D layer's plane is one
depth slice's geometry; the depth taps are the pages' to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conv_lab.core.params import LayerSpec, Pair


@dataclass(frozen=True)
class PlaneSpec:
    """A layer's 2-D view with the fields the formula, the grid and the costs read (a `params.LayerSpec`).

    >>> from conv_lab import ConvSpec
    >>> view = plane_view(ConvSpec(1, 4, 3, dilation=2, padding="causal", dims=1))
    >>> view.kernel_nd, view.pad_pairs(), view.module_name, view.source_dims
    ((1, 3), ((0, 0), (4, 0)), 'Conv1d', 1)
    """

    in_channels: int
    out_channels: int
    groups: int
    bias: bool
    padding_mode: str
    transposed: bool
    padding: Any  # the source's padding (a word, or its numbers): pages test for 'same' / 'causal'
    kernel_nd: Pair
    stride_nd: Pair
    dilation_nd: Pair
    output_padding_nd: Pair
    sides: tuple[Pair, Pair]  # (top, bottom), (left, right)
    module_name: str
    source_dims: int
    dims: int = 2

    @property
    def kernel_hw(self) -> Pair:
        """Kernel (kh, kw)."""
        return self.kernel_nd

    @property
    def stride_hw(self) -> Pair:
        """Stride (sh, sw)."""
        return self.stride_nd

    @property
    def dilation_hw(self) -> Pair:
        """Dilation (dh, dw)."""
        return self.dilation_nd

    @property
    def output_padding_hw(self) -> Pair:
        """Output padding (oh, ow)."""
        return self.output_padding_nd

    @property
    def effective_kernel_nd(self) -> Pair:
        """d·(k−1)+1 per dimension."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_nd, self.dilation_nd))

    @property
    def effective_kernel_hw(self) -> Pair:
        """d·(k−1)+1 per dimension."""
        return self.effective_kernel_nd

    def pad_pairs(self) -> tuple[Pair, Pair]:
        """(before, after) per dimension."""
        return self.sides

    def pads(self) -> tuple[int, int, int, int]:
        """(top, bottom, left, right)."""
        (top, bottom), (left, right) = self.sides
        return top, bottom, left, right

    def torch_kwargs(self) -> dict[str, Any]:
        """Not a torch layer: the real module is the source's."""
        raise TypeError(f"the 2-D view of a {self.module_name} is not a torch layer; run the {self.module_name}")


def plane_view(spec: LayerSpec) -> LayerSpec:
    """The layer as a 2-D grid sees it (a 2-D layer is returned as it is).

    >>> from conv_lab import ConvSpec
    >>> plane_view(ConvSpec(3, 8, 3)) == ConvSpec(3, 8, 3), plane_view(ConvSpec(3, 8, (1, 3, 5), dims=3)).kernel_hw
    (True, (3, 5))
    """
    if spec.dims == 2:
        return spec
    top, bottom, left, right = spec.pads()
    return PlaneSpec(spec.in_channels, spec.out_channels, spec.groups, spec.bias, spec.padding_mode, spec.transposed,
                     spec.padding, spec.kernel_hw, spec.stride_hw, spec.dilation_hw, spec.output_padding_hw,
                     ((top, bottom), (left, right)), spec.module_name, spec.dims)
