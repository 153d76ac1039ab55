"""Words for the pictures' alt text (issue 16: every image had an empty alt): the layer a picture shows, in one line."""

from __future__ import annotations

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import fmt
from conv_lab.core.state import LabConfig


def layer_words(config: LabConfig) -> str:
    """The layer and its input in words, for a screen reader.

    >>> layer_words(LabConfig())
    'Conv2d 3→16, kernel 3×3, stride 1×1, padding 0×0, dilation 1×1, on a 3-channel 32×32 input'
    """
    try:
        name = config.spec().module_name
    except ConvConfigError:  # an impossible layer still gets words
        name = ("ConvTranspose" if config.transposed else "Conv") + f"{config.dims}d"
    padding = config.padding if isinstance(config.padding, str) else fmt(config.padding)
    return (f"{name} {config.in_channels}→{config.out_channels}, kernel {fmt(config.kernel_size)}, stride "
            f"{fmt(config.stride)}, padding {padding}, dilation {fmt(config.dilation)}, on a {config.in_channels}-channel "
            f"{fmt(config.input_size)} input")
