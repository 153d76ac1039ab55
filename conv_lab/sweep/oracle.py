"""The sweep's check against the real torch module: the same values through nn.Conv1d/2d/3d (or their transposes,
or the pools), compared over the animated block of outputs.
"""

from __future__ import annotations

import numpy as np

from conv_lab.core.torch_run import causal_pad
from conv_lab.sweep.data import MAX_CHECKED_NUMBERS, SweepRequest, build_sweep, conv_filter, sweep_input


def module_name(request: SweepRequest) -> str:
    """The torch module the sweep follows, e.g. 'Conv1d', 'ConvTranspose3d', 'MaxPool1d'.

    >>> from conv_lab.core.state import LabConfig
    >>> module_name(SweepRequest(LabConfig(dims=1, height=1, width=8, kernel_size=(3,), stride=(1,), padding=(0,),
    ...                                    dilation=(1,), output_padding=(0,)), "max"))
    'MaxPool1d'
    """
    return request.config.spec().module_name if request.op == "conv" else request.pool_spec().module_name


def checkable(request: SweepRequest) -> bool:
    """True unless the torch check would read a 3-D group's clip over MAX_CHECKED_NUMBERS (the sweep itself reads
    only the slices under its depth taps).

    >>> from conv_lab.core.state import LabConfig
    >>> checkable(SweepRequest(LabConfig(64, 256, 256, dims=3, depth=64, kernel_size=(3, 3, 3))))
    False
    """
    c = request.config
    if c.dims != 3 or request.op != "conv":
        return True
    return c.in_channels // c.groups * c.depth * c.height * c.width <= MAX_CHECKED_NUMBERS


def _one_filter_module(request: SweepRequest):
    """The followed filter alone as a real module (C_in/groups → 1, groups 1), in float64."""
    import torch
    from torch import nn

    spec, conv = request.config.spec(), conv_filter(request)
    kwargs = {**spec.torch_kwargs(), "in_channels": len(conv.channels), "out_channels": 1, "groups": 1}
    module = getattr(nn, spec.module_name)(**kwargs).double()
    with torch.no_grad():
        weight = torch.from_numpy(conv.weight)
        if spec.dims == 1:
            weight = weight[:, 0]  # the strip's (C, 1, k) filter is Conv1d's (C, k)
        module.weight.copy_(weight.unsqueeze(1) if spec.transposed else weight.unsqueeze(0))
        if module.bias is not None:
            module.bias.fill_(conv.bias)
    return module


def torch_check(request: SweepRequest, rows: tuple[int, int], cols: tuple[int, int]) -> float:
    """Largest |sweep − real torch module| over a block of outputs (of the request's output depth slice, in 3-D).

    >>> from conv_lab.core.state import LabConfig
    >>> torch_check(SweepRequest(LabConfig(1, 5, 5, 1, padding=(1, 1))), (0, 5), (0, 5)) < 1e-9
    True
    """
    import torch
    import torch.nn.functional as F
    from torch import nn

    sweep, dims = build_sweep(request), request.config.dims
    channels = tuple(dict.fromkeys(sweep.channels))  # a 3-D sweep lists each channel once per depth tap
    x = torch.from_numpy(sweep_input(request, channels)[channels[0]:channels[-1] + 1]).unsqueeze(0)
    if dims == 1:
        x = x[:, :, 0]  # (1, C, L)
    blocks = {1: [cols], 2: [rows, cols], 3: [(request.out_depth, request.out_depth + 1), rows, cols]}[dims]
    if request.op == "conv":
        module = _one_filter_module(request)
    else:
        pool = request.pool_spec()
        module = getattr(nn, pool.module_name)(**pool.torch_kwargs())
    with torch.no_grad():
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            # The module's own forward for a padded conv (torch pads with F.pad, then convolves with padding 0), run
            # over only the padded cells the block's windows read: the whole map in float64 took up to 0.5 s per
            # rerun for a 256-channel 125×125 grid (issue 17). A causal layer pads the left first (run_layer).
            left = causal_pad(request.config.spec())
            pads = (left, 0) if left else module._reversed_padding_repeated_twice
            mode = "constant" if module.padding_mode == "zeros" else module.padding_mode
            grid = F.pad(x, pads, mode=mode) if any(pads) else x
            for axis, (lo, hi) in enumerate(blocks):
                s, d, k = module.stride[axis], module.dilation[axis], module.kernel_size[axis]
                grid = grid.narrow(2 + axis, lo * s, (hi - 1 - lo) * s + d * (k - 1) + 1)
            conv = (F.conv1d, F.conv2d, F.conv3d)[dims - 1]
            real = conv(grid, module.weight, module.bias, module.stride, 0, module.dilation)[0, 0]
        else:
            real = module(x)[0, 0][tuple(slice(lo, hi) for lo, hi in blocks)]
    real = real.numpy().reshape(rows[1] - rows[0] if dims > 1 else 1, cols[1] - cols[0])
    return float(np.abs(real - sweep.values(rows, cols)).max())
