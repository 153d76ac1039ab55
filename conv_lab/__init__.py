"""Conv Lab's engine: the convolution formula beside the real PyTorch layer.

>>> from conv_lab import ConvSpec, compare
>>> compare(ConvSpec(3, 16, 3), (1, 3, 32, 32)).torch_shape
torch.Size([1, 16, 30, 30])

Importing the package does not import torch; `compare` and `to_module` do.
"""

from conv_lab.core.costs import layer_cost, receptive_field
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.grid import padded_grid
from conv_lab.core.params import PARAMETERS
from conv_lab.core.shapes import check_input, explain, keep_size_padding, output_shape, solve_padding_stride
from conv_lab.core.spec import ConvSpec
from conv_lab.sweep.steps import sweep_steps


def compare(spec, input_shape, seed=0):
    """Run the real module and compare with the formula (see conv_lab.core.torch_run.compare)."""
    from conv_lab.core.torch_run import compare as _compare

    return _compare(spec, input_shape, seed)


__all__ = ["PARAMETERS", "ConvConfigError", "ConvSpec", "check_input", "compare", "explain", "keep_size_padding",
           "layer_cost", "output_shape", "receptive_field", "solve_padding_stride", "padded_grid", "sweep_steps"]
