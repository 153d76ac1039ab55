"""Classic stacks for the network planner, each named for what it teaches."""

from __future__ import annotations

from dataclasses import dataclass

from conv_lab.network.codec import encode_network, encode_skips
from conv_lab.network.flow import Skip
from conv_lab.network.plan import Row, parse_rows


@dataclass(frozen=True)
class NetworkPreset:
    """A named stack: input shape (N, C, L), (N, C, H, W) or (N, C, D, H, W), layer rows and skip connections."""

    name: str
    teaches: str
    input_shape: tuple[int, ...]
    rows: tuple[Row, ...]
    skips: tuple[Skip, ...] = ()


def _conv(out: int, k: int, extra: str = "") -> Row:
    return ("Conv2d", f"out_channels={out}, kernel_size={k}" + (f", {extra}" if extra else ""))


RELU: Row = ("ReLU", "")
WAVENET_NAME = "WaveNet-style causal dilated stack (1×16000)"
C3D_NAME = "Small 3-D CNN for video clips (3×16×112×112)"


def _causal(out: int, dilation: int) -> Row:
    return ("Conv1d", f"out_channels={out}, kernel_size=2, padding='causal'" + (f", dilation={dilation}" if dilation > 1
                                                                               else ""))


def _conv3d(out: int) -> Row:
    return ("Conv3d", f"out_channels={out}, kernel_size=3, padding=1, bias=False")
LENET = (_conv(6, 5), RELU, ("AvgPool2d", "kernel_size=2"), _conv(16, 5), RELU, ("AvgPool2d", "kernel_size=2"),
         ("Flatten", ""), ("Linear", "out_features=120"), RELU, ("Linear", "out_features=84"), RELU,
         ("Linear", "out_features=10"))

PRESETS: tuple[NetworkPreset, ...] = (
    NetworkPreset("LeNet-5 (1×32×32)", "two 5×5 convs and 2×2 pools take 32×32 to 16×5×5 = 400 features for the "
                  "classifier", (1, 1, 32, 32), LENET),
    NetworkPreset("LeNet-5 on 28×28 MNIST (breaks)", "the same stack on 28×28 ends at 16×4×4 = 256 features, but "
                  "the first Linear was written for 400", (1, 1, 28, 28),
                  (*LENET[:7], ("Linear", "in_features=400, out_features=120"), *LENET[8:])),
    NetworkPreset("VGG block (3×224×224)", "3×3 convs with padding 1 keep the size; only the 2×2 max-pool halves it",
                  (1, 3, 224, 224), (_conv(64, 3, "padding=1"), RELU, _conv(64, 3, "padding=1"), RELU,
                                     ("MaxPool2d", "kernel_size=2, stride=2"))),
    NetworkPreset("ResNet-18 stem + basic block (3×224×224)", "7×7 stride 2 and a 3×3 stride-2 max-pool take 224 to "
                  "56 (÷4); the block's two 3×3 convs keep 64×56×56 so the residual add fits",
                  (1, 3, 224, 224), (_conv(64, 7, "stride=2, padding=3, bias=False"), ("BatchNorm2d", ""), RELU,
                                     ("MaxPool2d", "kernel_size=3, stride=2, padding=1"),
                                     _conv(64, 3, "padding=1, bias=False"), ("BatchNorm2d", ""), RELU,
                                     _conv(64, 3, "padding=1, bias=False"), ("BatchNorm2d", ""), RELU),
                  (Skip("add", 4, 9),)),
    NetworkPreset("Small U-Net (1×572×572)", "unpadded 3×3 convs shrink every level, so the encoder's maps are "
                  "larger than the decoder's: each skip concatenation needs a centre crop (as in the U-Net paper)",
                  (1, 1, 572, 572),
                  (_conv(16, 3), RELU, _conv(16, 3), RELU,                            # 568 (point 4)
                   ("MaxPool2d", "kernel_size=2"), _conv(32, 3), RELU, _conv(32, 3), RELU,  # 280 (point 9)
                   ("MaxPool2d", "kernel_size=2"), _conv(64, 3), RELU, _conv(64, 3), RELU,  # 136
                   ("ConvTranspose2d", "out_channels=32, kernel_size=2, stride=2"),        # 272 (point 15)
                   _conv(32, 3), RELU, _conv(32, 3), RELU,                            # 268
                   ("ConvTranspose2d", "out_channels=16, kernel_size=2, stride=2"),        # 536 (point 20)
                   _conv(16, 3), RELU, _conv(16, 3), RELU, _conv(2, 1)),              # 2×532×532
                  (Skip("cat", 9, 15, crop=True), Skip("cat", 4, 20, crop=True))),
    NetworkPreset("Autoencoder with transposed convs (1×28×28)", "stride-2 convs halve 28→14→7; transposed convs "
                  "need output_padding=1 to get back to exactly 14 and 28",
                  (1, 1, 28, 28), (_conv(16, 3, "stride=2, padding=1"), RELU, _conv(32, 3, "stride=2, padding=1"), RELU,
                                   ("ConvTranspose2d", "out_channels=16, kernel_size=3, stride=2, padding=1, "
                                    "output_padding=1"), RELU,
                                   ("ConvTranspose2d", "out_channels=1, kernel_size=3, stride=2, padding=1, "
                                    "output_padding=1"))),
    NetworkPreset(WAVENET_NAME, "causal padding puts d·(k−1) zeros on the left only, so every layer keeps all 16000 "
                  "samples and never sees the future; dilations 1, 2, 4, 8 grow the receptive field to 17 samples in five "
                  "kernel-2 layers, and the residual adds fit because the length never changes", (1, 1, 16000),
                  (_causal(32, 1),                                  # point 1: 32 channels
                   _causal(32, 1), RELU, _causal(32, 2), RELU,       # points 3, 5
                   _causal(32, 4), RELU, _causal(32, 8), RELU,       # points 7, 9
                   ("Conv1d", "out_channels=256, kernel_size=1")),   # 256 classes per sample (8-bit mu-law)
                  (Skip("add", 1, 3), Skip("add", 3, 5), Skip("add", 5, 7), Skip("add", 7, 9))),
    NetworkPreset(C3D_NAME, "3×3×3 convs with padding 1 keep D×H×W; the first MaxPool3d (1, 2, 2) halves only H and W "
                  "so early layers keep all 16 frames (as C3D does); AdaptiveAvgPool3d(1) leaves 256 numbers for the "
                  "classifier whatever the clip size", (1, 3, 16, 112, 112),
                  (_conv3d(32), ("BatchNorm3d", ""), RELU, ("MaxPool3d", "kernel_size=(1, 2, 2)"),  # 32×16×56×56
                   _conv3d(64), ("BatchNorm3d", ""), RELU, ("MaxPool3d", "kernel_size=2"),           # 64×8×28×28
                   _conv3d(128), ("BatchNorm3d", ""), RELU, ("MaxPool3d", "kernel_size=2"),          # 128×4×14×14
                   _conv3d(256), ("BatchNorm3d", ""), RELU,
                   ("AdaptiveAvgPool3d", "output_size=1"), ("Flatten", ""), ("Linear", "out_features=101"))),
)
PRESET_BY_NAME = {p.name: p for p in PRESETS}


def preset_for_link(net: str, skip: str | None = None) -> str:
    """The name of the preset a share link (`net=`, `skip=`) opens exactly, or '—' for a stack of one's own.

    >>> preset_for_link("I1x32x32-C6k5-R-A2-C16k5-R-A2-F-L120-R-L84-R-L10")
    'LeNet-5 (1×32×32)'
    """
    for preset in PRESETS:
        if (encode_network(preset.input_shape, parse_rows(preset.rows)) == net
                and (encode_skips(preset.skips) or None) == (skip or None)):
            return preset.name
    return "—"
