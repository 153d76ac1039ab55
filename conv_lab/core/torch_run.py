"""Build the real torch module for a ConvSpec, run it, and compare with the formula."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

from conv_lab.core.code import layer_code
from conv_lab.core.costs import LayerCost, work_check
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import LayerSpec
from conv_lab.core.shapes import check_input, output_shape


def build_module(spec: LayerSpec, seed: int | None = None) -> nn.Module:
    """The real nn.Conv1d/2d/3d or nn.ConvTranspose1d/2d/3d, weights seeded when `seed` is given.

    >>> build_module(ConvSpec(3, 8, 3)).weight.shape, build_module(ConvSpec(3, 8, 3, dims=3)).weight.shape
    (torch.Size([8, 3, 3, 3]), torch.Size([8, 3, 3, 3, 3]))
    """
    if seed is not None:  # the CPU generator alone: torch.manual_seed also visits every other device (~0.3 ms a run)
        torch.default_generator.manual_seed(seed)
    kwargs = spec.torch_kwargs()
    try:
        return getattr(nn, spec.module_name)(**kwargs)
    except (RuntimeError, ValueError, TypeError) as exc:  # a rule conv_lab missed: still plain words
        raise ConvConfigError("layer", f"torch refused to build {layer_code(spec.module_name, kwargs)}: {exc}",
                              "change the parameter it names") from exc


CONV_FUNCTIONS = {nn.Conv1d: F.conv1d, nn.Conv2d: F.conv2d, nn.Conv3d: F.conv3d}


def causal_pad(spec: LayerSpec) -> int:
    """Zeros a causal layer puts on the left of the sequence before its convolution (0 for any other padding).

    >>> causal_pad(ConvSpec(1, 1, 3, dilation=4, padding="causal", dims=1)), causal_pad(ConvSpec(1, 1, 3))
    (8, 0)
    """
    return spec.pad_pairs()[0][0] if spec.padding == "causal" else 0


def run_layer(spec: LayerSpec, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The layer's output as the shown code computes it: causal layers pad the left first (`F.pad(x, (p, 0))`).

    >>> spec = ConvSpec(1, 1, 3, padding="causal", dims=1)
    >>> tuple(run_layer(spec, spec.to_module(), torch.ones(1, 1, 5)).shape)
    (1, 1, 5)
    """
    left = causal_pad(spec)
    return forward(module, F.pad(x, (left, 0)) if left else x)


def forward(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """module(x), except that a Conv1d/2d/3d's zero padding is applied first by F.pad, as torch's own forward does
    for reflect/replicate/circular padding (the module's own padding numbers; the same output and shape).

    Given the padding itself, oneDNN picks a reference kernel for some layers: 3→8 filters 15×15 with padding 7 on
    3×512×512 took 9.6 s of CPU instead of 0.1 s, far past what `shapes.estimated_seconds` allows (issue 17).

    >>> layer = build_module(ConvSpec(3, 8, 15, padding=7), seed=0); x = torch.randn(1, 3, 20, 20)
    >>> bool(torch.allclose(forward(layer, x), layer(x), atol=1e-5))
    True
    """
    pads = getattr(module, "_reversed_padding_repeated_twice", None)
    conv = CONV_FUNCTIONS.get(type(module))
    if conv and module.padding_mode == "zeros" and pads and any(pads):
        return conv(F.pad(x, pads), module.weight, module.bias, module.stride, 0, module.dilation, module.groups)
    return module(x)


def torch_code(spec: LayerSpec, input_shape: tuple[int, ...]) -> str:
    """The exact PyTorch lines Conv Lab runs, as a learner would type them.

    >>> print(torch_code(ConvSpec(3, 16, 3), (1, 3, 32, 32)))
    layer = nn.Conv2d(in_channels=3, out_channels=16, kernel_size=3, stride=1, padding=0)
    x = torch.randn(1, 3, 32, 32)
    y = layer(x)
    print(y.shape)
    """
    kwargs = spec.torch_kwargs()
    kwargs.setdefault("stride", spec.stride)
    kwargs.setdefault("padding", spec.padding)
    order = ["in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "dilation",
             "groups", "bias", "padding_mode"]
    if spec.padding == "causal":
        kwargs["padding"] = 0
    layer = layer_code(spec.module_name, {k: kwargs[k] for k in order if k in kwargs})
    dims = ", ".join(str(v) for v in input_shape)
    left = causal_pad(spec)
    pad = f"x = F.pad(x, ({left}, 0))  # causal: d·(k−1) = {left} zeros on the left only\n" if left else ""
    return f"layer = {layer}\nx = torch.randn({dims})\n{pad}y = layer(x)\nprint(y.shape)"


@dataclass(frozen=True)
class Comparison:
    """The formula's answer beside the real module's, with the layer's costs."""

    spec: LayerSpec
    input_shape: tuple[int, ...]
    formula_shape: tuple[int, ...]
    torch_shape: torch.Size
    output: torch.Tensor
    module: nn.Module
    params: int  # summed from the module's own parameters
    cost: LayerCost
    code: str

    @property
    def agree(self) -> bool:
        """True when the formula and torch give the same shape."""
        return tuple(self.torch_shape) == tuple(self.formula_shape)

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the run."""
        return self.cost.macs

    @property
    def output_bytes(self) -> int:
        """Bytes of the float32 output tensor."""
        return self.output.element_size() * self.output.nelement()

    @property
    def effective_kernel(self) -> tuple[int, ...]:
        """d·(k−1)+1 per dimension."""
        return self.cost.effective_kernel

    @property
    def receptive_field(self) -> tuple[int, ...]:
        """Input cells one output cell depends on."""
        return self.cost.receptive_field


def compare(spec: LayerSpec, input_shape: tuple[int, ...], seed: int = 0) -> Comparison:
    """Run the real module on a seeded random tensor and set its shape beside the formula's.

    >>> compare(ConvSpec(3, 64, 3, stride=2, padding=1), (1, 3, 32, 32)).torch_shape
    torch.Size([1, 64, 16, 16])
    """
    shape = check_input(spec, input_shape)
    formula = output_shape(spec, shape)
    cost = work_check(spec, shape)
    module = build_module(spec, seed)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=generator)
    try:
        with torch.no_grad():
            y = run_layer(spec, module, x)
    except (RuntimeError, ValueError) as exc:  # safety net; the property test keeps this unreachable
        raise ConvConfigError("layer", f"torch rejected this configuration: {str(exc).splitlines()[0]}",
                              "change the parameter it names") from exc
    params = sum(p.numel() for p in module.parameters())
    return Comparison(spec, shape, formula, y.shape, y, module, params, cost, torch_code(spec, shape))


@dataclass(frozen=True)
class RunReport:
    """What the Shape Lab shows of a real run, without the tensors (small enough to cache)."""

    formula_shape: tuple[int, ...]
    torch_shape: torch.Size
    params: int
    cost: LayerCost
    code: str

    @property
    def agree(self) -> bool:
        """True when the formula and torch give the same shape."""
        return tuple(self.torch_shape) == tuple(self.formula_shape)


@lru_cache(maxsize=512)
def run_report(spec: LayerSpec, input_shape: tuple[int, ...], seed: int = 0) -> RunReport:
    """Cached `compare` summary shared by every session (specs are hashable).

    >>> run_report(ConvSpec(3, 16, 3), (1, 3, 32, 32)).torch_shape
    torch.Size([1, 16, 30, 30])
    """
    result = compare(spec, tuple(input_shape), seed)
    return RunReport(result.formula_shape, result.torch_shape, result.params, result.cost, result.code)
