"""Conv Lab's engine: the convolution formula beside the real PyTorch layer.

>>> from conv_lab import ConvSpec, compare
>>> compare(ConvSpec(3, 16, 3), (1, 3, 32, 32)).torch_shape
torch.Size([1, 16, 30, 30])

Importing the package does not import torch; `compare` and `to_module` do.
"""

from conv_lab.core.spec import PARAMETERS, ConvConfigError, ConvSpec, check_input
from conv_lab.core.shapes import explain, keep_size_padding, layer_cost, output_shape, receptive_field, solve_padding_stride


def compare(spec, input_shape, seed=0):
    """Run the real module and compare with the formula (see conv_lab.core.torch_run.compare)."""
    from conv_lab.core.torch_run import compare as _compare

    return _compare(spec, input_shape, seed)


def __getattr__(name):
    # Sweep helpers load lazily so `import conv_lab` stays light for pages that do not need them.
    if name in ("padded_grid", "sweep_steps"):
        from conv_lab.sweep import steps as sweep

        return getattr(sweep, name)
    raise AttributeError(name)


__all__ = ["PARAMETERS", "ConvConfigError", "ConvSpec", "check_input", "compare", "explain", "keep_size_padding",
           "layer_cost", "output_shape", "receptive_field", "solve_padding_stride", "padded_grid", "sweep_steps"]
