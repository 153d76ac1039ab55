"""The feature-map run: a picture through the configured layer with a chosen filter bank, plus page options.

`run_feature_maps` prepares the input tensor, builds the real torch module, writes the bank's
weights into it and runs it; the maps it returns are the module's own output. Page options
(which picture, which bank, ReLU, …) come from URLs, so `parse_options` reads them tolerantly:
a bad value becomes the default plus a notice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

import numpy as np
import torch

from conv_lab import limits
from conv_lab.core import options as query
from conv_lab.core.costs import layer_cost, work_check
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.options import Option, option_defaults, option_keys
from conv_lab.core.shapes import check_input, output_shape
from conv_lab.core.spec import ConvSpec
from conv_lab.core.torch_run import build_module, forward
from conv_lab.features.banks import BANKS, Filter, apply_bank
from conv_lab.features.images import SAMPLES, Picture, PreparedInput, prepare_input

UPLOAD = "upload"
SCALES = {"map": "each map to its own range", "shared": "one scale for all maps"}
MAX_SEED = 2**31 - 1


FEATURE_OPTIONS = (
    Option("image", "choice", "scene", label="Picture", choices=(*SAMPLES, UPLOAD),
           help="\n".join(f"- **{name}**: {what}" for name, what in SAMPLES.items())),
    Option("bank", "choice", "classic", label="Filter bank", choices=tuple(BANKS),
           help="\n".join(f"- **{name}**: {what}" for name, what in BANKS.items())),
    Option("seed", "int", 0, 0, MAX_SEED, "Seed", help="decides the random kernels (random and mix banks)"),
    Option("relu", "bool", False, label="ReLU after the conv", help="max(0, x): negative responses become 0"),
    Option("own_size", "bool", False, label="Use the picture's own size",
           help="instead of resizing it to the sidebar's input height×width"),
    Option("scale", "choice", "map", label="Colour scale", choices=tuple(SCALES)),
    Option("filter", "int", 0, 0, limits.MAX_FILTERS - 1, "Enlarge map"),
    Option("patch", "bool", False, label="Where did one cell look?",
           help="outline one cell of the enlarged map and the input cells its window read"),
    Option("cell", "cell", (0, 0), label="Map cell (row, column)"),
)
FEATURE_OPTION = {option.key: option for option in FEATURE_OPTIONS}
_DEFAULTS = option_defaults(FEATURE_OPTIONS)
OPTION_KEYS = option_keys(FEATURE_OPTIONS)


@dataclass(frozen=True)
class FeatureOptions:
    """What the feature-map page shows, besides the layer itself (all of it fits in a URL).

    >>> FeatureOptions().bank
    'classic'
    """

    image: str = _DEFAULTS["image"]  # a sample name, or "upload"
    bank: str = _DEFAULTS["bank"]
    seed: int = _DEFAULTS["seed"]
    relu: bool = _DEFAULTS["relu"]
    own_size: bool = _DEFAULTS["own_size"]
    scale: str = _DEFAULTS["scale"]
    filter: int = _DEFAULTS["filter"]  # the map shown enlarged
    patch: bool = _DEFAULTS["patch"]  # outline one map cell and the input it read
    cell: tuple[int, int] = _DEFAULTS["cell"]  # that cell (row, column), clamped to the map by the page


def parse_options(params: Mapping[str, object]) -> tuple[FeatureOptions, list[str]]:
    """Page options from query params (the table, read by `core.options`); never raises.

    >>> options = parse_options({"bank": "random", "seed": "7", "relu": "1", "patch": "1", "cell": "3,4"})[0]
    >>> options.bank, options.seed, options.relu, options.filter, options.patch, options.cell
    ('random', 7, True, 0, True, (3, 4))
    >>> parse_options({"bank": "fancy"})[1]
    ["bank='fancy' is not one of classic, random, mix; using the default"]
    """
    notices: list[str] = []
    return replace(FeatureOptions(), **query.parse_options(FEATURE_OPTIONS, params, notices)), notices


def options_query(options: FeatureOptions) -> dict[str, str]:
    """The query params that differ from the defaults (short share links).

    >>> options_query(FeatureOptions(bank="mix", relu=True))
    {'bank': 'mix', 'relu': '1'}
    """
    return query.options_query(FEATURE_OPTIONS, options)


@dataclass(frozen=True)
class FeatureRun:
    """A finished run: the input fed in, the filters, and the module's output."""

    spec: ConvSpec
    prepared: PreparedInput
    filters: tuple[Filter, ...]
    output: torch.Tensor  # (1, C_out, H_out, W_out), after the ReLU when `relu`
    relu: bool
    module: torch.nn.Module

    @property
    def torch_size(self) -> torch.Size:
        """The full output shape as torch prints it.

        >>> run_feature_maps(ConvSpec(1, 2, 3), Picture(np.zeros((5, 5, 3), np.uint8), "t"), 5, 5).torch_size
        torch.Size([1, 2, 3, 3])
        """
        return self.output.shape

    @property
    def maps(self) -> np.ndarray:
        """The output maps as a (C_out, H_out, W_out) float32 array."""
        return self.output[0].numpy()

    @property
    def notices(self) -> tuple[str, ...]:
        """What was done to the picture on the way in."""
        return self.prepared.notices


def page_seconds(spec: ConvSpec, input_shape: tuple[int, ...]) -> float:
    """CPU seconds this page adds to the layer run: `apply_bank` writing a filter bank into every weight, and every
    output number drawn (ReLU, colour scale, the grid of maps); see limits.NS_PER_BANK_* and NS_PER_MAP_ELEMENT.

    >>> round(page_seconds(ConvSpec(256, 512, 15), (1, 256, 15, 15)), 2)
    0.79
    """
    cost = layer_cost(spec, input_shape)
    return (cost.weight_params * limits.NS_PER_BANK_WEIGHT + spec.out_channels * limits.NS_PER_BANK_FILTER
            + cost.output_bytes // 4 * limits.NS_PER_MAP_ELEMENT) * 1e-9


def run_feature_maps(spec: ConvSpec, picture: Picture, height: int, width: int, bank: str = "classic",
                     seed: int = 0, relu: bool = False, own_size: bool = False) -> FeatureRun:
    """Run the configured layer with the bank's weights on the picture; ConvConfigError when it cannot run.

    >>> from conv_lab.features.images import sample_picture
    >>> run_feature_maps(ConvSpec(3, 8, 3, padding=1), sample_picture("scene"), 64, 64).torch_size
    torch.Size([1, 8, 64, 64])
    """
    if own_size:
        height, width = picture.size
    shape = check_input(spec, (1, spec.in_channels, height, width))
    output_shape(spec, shape)  # raises a plain error when the output would be empty
    work_check(spec, shape, extra=page_seconds)
    prepared = prepare_input(picture, spec.in_channels, height, width)
    with torch.random.fork_rng(devices=[]):  # torch's own init is overwritten: keep the global RNG untouched
        module = build_module(spec)
    filters = apply_bank(module, spec, bank, seed)
    x = torch.from_numpy(prepared.array)[None]
    try:
        with torch.inference_mode():
            y = forward(module, x)
            if relu:
                y = torch.relu(y)
    except (RuntimeError, ValueError) as exc:  # safety net: conv_lab's checks should make this unreachable
        raise ConvConfigError("layer", f"torch rejected this configuration: {str(exc).splitlines()[0]}",
                              "change the parameter it names") from exc
    return FeatureRun(spec, prepared, filters, y, relu, module)
