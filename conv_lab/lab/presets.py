"""Named configurations, each named for what it teaches."""

from __future__ import annotations

from dataclasses import dataclass

from conv_lab.core.spec import ConvSpec
from conv_lab.core.state import LabConfig, config_from_spec


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
    # 1-D and 3-D (issue 13): audio and sequences, video and volumes.
    Preset("WaveNet causal layer (1-D, d=8)", "kernel 2, dilation 8, causal: 8 zeros on the left keep all 1000 steps, "
           "and no output sees the future",
           config_from_spec(ConvSpec(32, 32, 2, dilation=8, padding="causal", dims=1), 1000)),
    Preset("Audio front end (1-D)", "1 s of 16 kHz audio, kernel 80 (5 ms), stride 4: (16000 − 80)/4 + 1 = 3981 frames",
           config_from_spec(ConvSpec(1, 64, 80, stride=4, dims=1), 16000)),
    Preset("Depthwise 1-D", "groups = channels on a sequence: each filter slides along one channel (5 weights)",
           config_from_spec(ConvSpec(64, 64, 5, padding=2, groups=64, dims=1), 256)),
    Preset("C3D 3×3×3 on a 16-frame clip", "3×3×3 with padding 1 keeps 16×112×112: time is one more dimension",
           config_from_spec(ConvSpec(3, 64, 3, padding=1, dims=3), 16, 112, 112)),
    Preset("3-D stride-2 downsampling", "3×3×3, stride 2, padding 1 halves depth, height and width: 16×56×56 → 8×28×28",
           config_from_spec(ConvSpec(64, 128, 3, stride=2, padding=1, dims=3), 16, 56, 56)),
)
PRESET_BY_NAME = {p.name: p for p in PRESETS}
