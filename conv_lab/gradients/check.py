"""What /gradients runs: the work cap, loss.backward() on the real module beside the explicit engine, the formulas, and
the transposed conv's overlap counts (how many windows write each output cell: the checkerboard)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from conv_lab import limits
from conv_lab.core.costs import LayerCost, layer_cost, work_check
from conv_lab.core.errors import ConvConfigError, WorkCapError
from conv_lab.core.params import LayerSpec
from conv_lab.core.shapes import output_shape

MAX_GRADIENT_ELEMENTS = 1_000_000  # numbers in x, the weight or g: seeded in numpy, copied to float64 tensors


def backward_seconds(spec: LayerSpec, input_shape: tuple[int, ...]) -> float:
    """CPU seconds of the page's float64 work: the forward run, loss.backward() and the explicit engine (an upper
    estimate, `limits.GRADIENT_NS_PER_MAC` and friends; benchmarks/gradients.py measures the same work beside it).

    >>> round(backward_seconds(ConvSpec(3, 8, 15, padding=7), (1, 3, 96, 96)), 2)
    0.36
    """
    out = output_shape(spec, input_shape)
    unfolded = math.prod(spec.kernel_nd) * (spec.in_channels * math.prod(out[2:]) +
                                            spec.out_channels * math.prod(input_shape[2:]))
    elements = spec.in_channels * math.prod(input_shape[2:]) + spec.out_channels * math.prod(out[2:])
    macs = layer_cost(spec, input_shape).macs
    return (macs * limits.GRADIENT_NS_PER_MAC + unfolded * limits.GRADIENT_NS_PER_UNFOLDED
            + elements * limits.GRADIENT_NS_PER_ELEMENT) * 1e-9 + limits.GRADIENT_FIXED_SECONDS


def _first_view_seconds(spec: LayerSpec, input_shape: tuple[int, ...]) -> float:
    """The page's float64 work and its backward sweep's first render in the render worker."""
    return backward_seconds(spec, input_shape) + limits.GRADIENT_SWEEP_SECONDS


def check_gradient_work(spec: LayerSpec, input_shape: tuple[int, ...]) -> LayerCost:
    """WorkCapError when the backward page's run of this layer would exceed one request's share of the server (its
    float64 work and its sweep's first render counted on top of the layer's own run by `work_check`, which also names
    a smaller input that fits).

    >>> check_gradient_work(ConvSpec(3, 8, 3), (1, 3, 32, 32)).macs
    194400
    """
    cost = work_check(spec, input_shape, _first_view_seconds)
    largest = max(cost.input_bytes, cost.output_bytes, cost.weight_params * 4) // 4
    if largest > MAX_GRADIENT_ELEMENTS:
        raise WorkCapError("input_size", f"the backward pass would hold a tensor of {largest:,} numbers, above the "
                           f"backward page's cap of {MAX_GRADIENT_ELEMENTS:,}", "use a smaller input or fewer channels")
    return cost


@dataclass(frozen=True)
class AutogradCheck:
    """x.grad, layer.weight.grad and layer.bias.grad from loss.backward(), the explicit ones, and how far apart."""

    shapes: dict[str, str]  # "x.grad" → "torch.Size([1, 3, 8, 8])", as torch prints it
    max_difference: float
    explicit: Any  # engine.Gradients
    autograd: tuple

    @property
    def agree(self) -> bool:
        """True when every explicit gradient equals autograd's to 1e-9 (float64)."""
        return self.max_difference < 1e-9


def autograd_check(spec: LayerSpec, x: np.ndarray, weight: np.ndarray, bias: Optional[np.ndarray],
                   grad_output: np.ndarray) -> AutogradCheck:
    """Run the real module forward, `(y * g).sum().backward()`, and the explicit engine on the same numbers.

    >>> from conv_lab import ConvSpec
    >>> c = autograd_check(ConvSpec(1, 2, 3, stride=2), np.ones((1, 5, 5)), np.ones((2, 1, 3, 3)), np.zeros(2),
    ...                    np.ones((2, 2, 2)))
    >>> c.shapes["layer.weight.grad"], c.agree
    ('torch.Size([2, 1, 3, 3])', True)
    """
    import torch

    from conv_lab.core.torch_run import build_module, run_layer
    from conv_lab.gradients.engine import gradients

    module = build_module(spec).double()
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(weight))
        if module.bias is not None and bias is not None:
            module.bias.copy_(torch.from_numpy(bias))
    xt = torch.from_numpy(x).unsqueeze(0).requires_grad_(True)
    g = torch.from_numpy(grad_output).unsqueeze(0)
    try:
        y = run_layer(spec, module, xt)
        (y * g).sum().backward()
    except RuntimeError as exc:  # safety net: the formula's checks keep this unreachable
        raise ConvConfigError("layer", f"torch refused the backward pass: {str(exc).splitlines()[0]}",
                              "change the parameter it names") from exc
    bias_grad = module.bias.grad if module.bias is not None else None
    mine = gradients(spec, xt.detach(), module.weight.detach(), g, bias)
    pairs = [(mine.grad_input, xt.grad), (mine.grad_weight, module.weight.grad)]
    if bias_grad is not None:
        pairs.append((mine.grad_bias, bias_grad))
    difference = max(float((a - b).abs().max()) if a.numel() else 0.0 for a, b in pairs)
    shapes = {"x.grad": str(xt.grad.shape), "layer.weight.grad": str(module.weight.grad.shape),
              "layer.bias.grad": str(bias_grad.shape) if bias_grad is not None else "None (bias=False)"}
    return AutogradCheck(shapes, difference, mine, (xt.grad, module.weight.grad, bias_grad))


def overlap_counts(spec: LayerSpec, input_size: tuple[int, ...]) -> np.ndarray:
    """For a transposed layer, how many (input cell, kernel tap) pairs write each output cell: uneven (a checkerboard)
    when the kernel size is not a multiple of the stride. Separable: the product of one count per axis.

    >>> from conv_lab import ConvSpec
    >>> overlap_counts(ConvSpec(1, 1, 3, stride=2, transposed=True, dims=1), (4,)).tolist()
    [1, 1, 2, 1, 2, 1, 2, 1, 1]
    """
    counts = None
    for size, k, s, d, (before, _), extra in zip(input_size, spec.kernel_nd, spec.stride_nd, spec.dilation_nd,
                                                 spec.pad_pairs(), spec.output_padding_nd):
        n_out = (size - 1) * s - 2 * before + d * (k - 1) + extra + 1
        axis = np.zeros(max(n_out, 0), dtype=np.int64)
        targets = (np.arange(size)[:, None] * s + np.arange(k)[None, :] * d - before).ravel()
        np.add.at(axis, targets[(targets >= 0) & (targets < n_out)], 1)
        counts = axis if counts is None else np.multiply.outer(counts, axis)
    return counts


def formulas(spec: LayerSpec) -> dict[str, str]:
    """LaTeX for each gradient of this layer (one spatial index per dimension written as a vector).

    >>> sorted(formulas(ConvSpec(1, 1, 3)))
    ['grad_bias', 'grad_input', 'grad_weight']
    """
    bias = r"\frac{\partial L}{\partial b_o} = \sum_{n}\sum_{\mathbf{i}} g_{n,o,\mathbf{i}}"
    if spec.transposed:
        return {"grad_input": r"\frac{\partial L}{\partial x_{c,\mathbf{i}}} = \sum_{o \in \mathrm{group}(c)}"
                              r"\sum_{\mathbf{t}} w_{c,o,\mathbf{t}}\; g^{\mathrm{pad}\,p}_{o,\;\mathbf{i}s + \mathbf{t}d}"
                              r"\quad\text{(a direct conv of } g\text{)}",
                "grad_weight": r"\frac{\partial L}{\partial w_{c,o,\mathbf{t}}} = \sum_{n}\sum_{\mathbf{i}}"
                               r" x_{n,c,\mathbf{i}}\; g^{\mathrm{pad}\,p}_{n,o,\;\mathbf{i}s + \mathbf{t}d}",
                "grad_bias": bias}
    return {"grad_input": r"\frac{\partial L}{\partial \tilde x_{c,\mathbf{j}}} = \sum_{o \in \mathrm{group}(c)}"
                          r"\sum_{\mathbf{t}} \mathrm{flip}(w)_{c,o,\mathbf{t}}\;"
                          r"\hat g_{o,\;\mathbf{j} + \mathbf{t}d}\quad"
                          r"(\hat g = g\text{ with } s-1 \text{ zeros inserted, padded by } d(k-1))",
            "grad_weight": r"\frac{\partial L}{\partial w_{o,c,\mathbf{t}}} = \sum_{n}\sum_{\mathbf{i}}"
                           r" \tilde x_{n,c,\;\mathbf{t}d + \mathbf{i}s}\; g_{n,o,\mathbf{i}}",
            "grad_bias": bias}
