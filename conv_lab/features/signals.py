"""Feature maps of a 1-D or 3-D layer: a generated chirp (with noise) or a short clip of a moving square, run through
the real nn.Conv1d / nn.Conv3d, drawn as lines per output channel or as depth slices.

Generated in code from a seed (nothing downloaded); the layer runs as `core.torch_run.run_layer` runs it (a causal
layer pads the left first), with torch's own seeded initial weights and bias 0, so each channel shows its kernel alone.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure

from conv_lab.core.costs import work_check
from conv_lab.core.shapes import check_input, output_shape
from conv_lab.core.spec import ConvSpec
from conv_lab.core.torch_run import build_module, run_layer

MAX_LINES = 8  # output channels drawn as lines (the rest are named in the caption)
MAX_SLICES = 8  # depth slices drawn per row
MAX_MAPS_3D = 4  # output channels drawn as rows of slices


def sample_signal(channels: int, length: int, seed: int = 0) -> np.ndarray:
    """A chirp (frequency rising from 2 to 40 cycles over the sequence) with a little noise, one per channel.

    >>> s = sample_signal(2, 100); s.shape, s.dtype, bool(abs(s).max() < 1.6)
    ((2, 100), dtype('float32'), True)
    """
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, length)
    rows = [np.sin(2 * np.pi * (2 * t + (38 / 2) * t ** 2) + c * np.pi / 3) + 0.15 * rng.standard_normal(length)
            for c in range(channels)]
    return np.asarray(rows, dtype=np.float32)


def sample_clip(channels: int, depth: int, height: int, width: int) -> np.ndarray:
    """A bright square moving diagonally, one position per frame (depth = frames), on a dark background.

    >>> c = sample_clip(1, 4, 8, 8); c.shape, float(c[0, 0].sum()), float(c[0, 0, 0, 0]), float(c[0, 3, 0, 0])
    ((1, 4, 8, 8), 4.0, 1.0, 0.0)
    """
    clip = np.zeros((channels, depth, height, width), dtype=np.float32)
    side = max(1, min(height, width) // 3)
    for frame in range(depth):
        top = round(frame * (height - side) / max(1, depth - 1))
        left = round(frame * (width - side) / max(1, depth - 1))
        clip[:, frame, top:top + side, left:left + side] = 1.0
    return clip


@dataclass(frozen=True)
class SampleRun:
    """The generated input, the real module and its output (bias 0)."""

    spec: ConvSpec
    x: torch.Tensor  # (1, C, L) or (1, C, D, H, W)
    output: torch.Tensor
    module: torch.nn.Module

    @property
    def torch_size(self) -> torch.Size:
        """The output shape as torch prints it."""
        return self.output.shape


def run_sample(spec: ConvSpec, sizes: tuple[int, ...], seed: int = 0, relu: bool = False) -> SampleRun:
    """Run the 1-D layer on the chirp or the 3-D layer on the clip; ConvConfigError when it cannot run or is too large.

    >>> run_sample(ConvSpec(1, 4, 3, padding="causal", dims=1), (50,)).torch_size
    torch.Size([1, 4, 50])
    """
    shape = check_input(spec, (1, spec.in_channels, *sizes))
    output_shape(spec, shape)  # a plain error when the output would be empty
    work_check(spec, shape)
    data = sample_signal(spec.in_channels, *sizes, seed=seed) if spec.dims == 1 else sample_clip(spec.in_channels, *sizes)
    with torch.random.fork_rng(devices=[]):  # seeded initial weights, the global RNG untouched
        module = build_module(spec, seed)
    if module.bias is not None:
        with torch.no_grad():
            module.bias.zero_()
    x = torch.from_numpy(data)[None]
    with torch.inference_mode():
        y = run_layer(spec, module, x)
        y = torch.relu(y) if relu else y
    return SampleRun(spec, x, y, module)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def signal_png(run: SampleRun) -> bytes:
    """The input channels, then each output channel (up to MAX_LINES) as a line over its positions (PNG).

    >>> signal_png(run_sample(ConvSpec(2, 3, 5, dims=1), (64,)))[:4] == b"\\x89PNG"
    True
    """
    x, y = run.x[0].numpy(), run.output[0].numpy()
    shown = min(len(y), MAX_LINES)
    figure = Figure(figsize=(11, 1.7 * (shown + 1) + 0.4), layout="constrained")
    axes = figure.subplots(shown + 1, 1, sharex=False)
    for c, row in enumerate(x[:MAX_LINES]):
        axes[0].plot(row, linewidth=1, label=f"channel {c}")
    axes[0].set_title(f"input: {x.shape[0]} channel(s) × {x.shape[1]} positions (chirp + noise)", fontsize=11)
    for i in range(shown):
        axes[i + 1].plot(y[i], color=f"C{(i + 1) % 10}", linewidth=1.2)
        axes[i + 1].axhline(0, color="#999999", linewidth=0.6)
        axes[i + 1].set_title(f"output channel {i} ({y.shape[1]} positions)", fontsize=10, loc="left")
    axes[-1].set_xlabel("position")
    return _png(figure)


def clip_png(run: SampleRun) -> bytes:
    """Depth slices (frames) of input channel 0 and of the first output channels, one row each (PNG).

    >>> clip_png(run_sample(ConvSpec(1, 2, 3, padding=1, dims=3), (4, 8, 8)))[:4] == b"\\x89PNG"
    True
    """
    x, y = run.x[0, 0].numpy(), run.output[0].numpy()
    rows = [("input channel 0", x)] + [(f"output channel {i}", y[i]) for i in range(min(len(y), MAX_MAPS_3D))]
    cols = min(MAX_SLICES, max(len(volume) for _, volume in rows))
    figure = Figure(figsize=(1.5 * cols + 1.2, 1.6 * len(rows) + 0.3), layout="constrained")
    axes = np.atleast_2d(figure.subplots(len(rows), cols, squeeze=False))
    for r, (name, volume) in enumerate(rows):
        low, high = float(volume.min()), float(volume.max())
        for d in range(cols):
            ax = axes[r, d]
            ax.set_xticks([]), ax.set_yticks([])
            if d < len(volume):
                ax.imshow(volume[d], cmap="gray" if r == 0 else "RdBu_r", vmin=low, vmax=high if high > low else low + 1)
                ax.set_title(f"d={d}", fontsize=8)
            else:
                ax.set_axis_off()
        axes[r, 0].set_ylabel(name, fontsize=9)
    return _png(figure)
