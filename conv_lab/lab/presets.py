"""Named configurations, each named for what it teaches."""

from __future__ import annotations

from dataclasses import dataclass

from conv_lab.core.state import LabConfig


@dataclass(frozen=True)
class Preset:
    """A configuration with a name and one line on what it shows."""

    name: str
    teaches: str
    config: LabConfig


PRESETS: tuple[Preset, ...] = (
    Preset("Shrink without padding", "3×3, stride 1, no padding: each side loses k−1 = 2 → 30×30",
           LabConfig(3, 32, 32, 16, (3, 3), (1, 1), (0, 0))),
    Preset("Keep the size with padding", "5×5 with padding 2 = (k−1)/2 keeps 32×32",
           LabConfig(3, 32, 32, 32, (5, 5), (1, 1), (2, 2))),
    Preset("Halve with stride 2", "3×3, stride 2, padding 1 halves 32 → 16",
           LabConfig(3, 32, 32, 64, (3, 3), (2, 2), (1, 1))),
    Preset("Stride leaves a row unused",
           "6×6, 3×3, stride 2, padding 1 → 3×3: the last padded row and column are never covered",
           LabConfig(1, 6, 6, 1, (3, 3), (2, 2), (1, 1))),
    Preset("AlexNet conv1", "11×11, stride 4 on 227×227 → 55×55, 96 filters",
           LabConfig(3, 227, 227, 96, (11, 11), (4, 4), (0, 0))),
    Preset("ResNet stem", "7×7, stride 2, padding 3 on 224×224 → 112×112",
           LabConfig(3, 224, 224, 64, (7, 7), (2, 2), (3, 3), bias=False)),
    Preset("Depthwise 3×3", "groups = channels: each filter sees one input channel (9 weights per filter)",
           LabConfig(32, 56, 56, 32, (3, 3), (1, 1), (1, 1), groups=32)),
    Preset("Dilated 3×3 (d=2)", "dilation 2 spreads a 3×3 over 5×5; padding 2 keeps the size",
           LabConfig(16, 32, 32, 16, (3, 3), (1, 1), (2, 2), dilation=(2, 2))),
    Preset("Transposed conv doubles 16→32", "ConvTranspose2d, 4×4, stride 2, padding 1: (16−1)·2 − 2 + 3 + 1 = 32",
           LabConfig(64, 16, 16, 32, (4, 4), (2, 2), (1, 1), transposed=True)),
    Preset("'same' with an even kernel", "4×4 with padding='same' pads 1 on top/left and 2 on bottom/right",
           LabConfig(3, 32, 32, 8, (4, 4), (1, 1), "same")),
)
PRESET_BY_NAME = {p.name: p for p in PRESETS}
