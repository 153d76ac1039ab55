"""The feature-map run: a picture through the configured layer with a chosen filter bank, plus page options.

`run_feature_maps` prepares the input tensor, builds the real torch module, writes the bank's
weights into it and runs it; the maps it returns are the module's own output. Page options
(which picture, which bank, ReLU, …) come from URLs, so `parse_options` reads them tolerantly:
a bad value becomes the default plus a notice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import Mapping

import numpy as np
import torch

from conv_lab import limits
from conv_lab.features.banks import BANKS, Filter, apply_bank
from conv_lab.features.images import SAMPLES, Picture, PreparedInput, prepare_input
from conv_lab.core.shapes import output_shape, work_check
from conv_lab.core.spec import ConvConfigError, ConvSpec, check_input
from conv_lab.core.torch_run import build_module

UPLOAD = "upload"
SCALES = {"map": "each map to its own range", "shared": "one scale for all maps"}
MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class FeatureOptions:
    """What the feature-map page shows, besides the layer itself (all of it fits in a URL).

    >>> FeatureOptions().bank
    'classic'
    """

    image: str = "scene"  # a sample name, or "upload"
    bank: str = "classic"
    seed: int = 0
    relu: bool = False
    own_size: bool = False
    scale: str = "map"
    filter: int = 0  # the map shown enlarged


OPTION_KEYS = tuple(f.name for f in fields(FeatureOptions))
_DEFAULT = FeatureOptions()


def _last(value) -> str:
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    return "" if value is None else str(value)[: limits.MAX_URL_VALUE_CHARS]


def parse_options(params: Mapping[str, object]) -> tuple[FeatureOptions, list[str]]:
    """Page options from query params; a bad value becomes the default and a notice, never an exception.

    >>> parse_options({"bank": "random", "seed": "7", "relu": "1"})[0]
    FeatureOptions(image='scene', bank='random', seed=7, relu=True, own_size=False, scale='map', filter=0)
    >>> parse_options({"bank": "fancy"})[1]
    ["bank='fancy' is not one of classic, random, mix; using 'classic'"]
    """
    values: dict = {}
    notices: list[str] = []
    choices = {"image": (*SAMPLES, UPLOAD), "bank": tuple(BANKS), "scale": tuple(SCALES)}
    for key in OPTION_KEYS:
        if key not in params:
            continue
        raw = _last(params[key]).strip()
        default = getattr(_DEFAULT, key)
        if key in choices:
            if raw.lower() in choices[key]:
                values[key] = raw.lower()
            else:
                notices.append(f"{key}={raw!r} is not one of {', '.join(choices[key])}; using {default!r}")
        elif key in ("relu", "own_size"):
            if raw.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                values[key] = raw.lower() in ("1", "true", "yes", "on")
            else:
                notices.append(f"{key}={raw!r} is not 1 or 0; using the default")
        else:  # seed, filter: whole numbers, clamped
            if not re.fullmatch(r"\+?\d{1,12}", raw):
                notices.append(f"{key}={raw!r} is not a whole number; using {default}")
                continue
            top = MAX_SEED if key == "seed" else limits.MAX_FILTERS - 1
            values[key] = min(int(raw), top)
            if int(raw) > top:
                notices.append(f"{key}={raw} is above {top}; using {top}")
    return replace(_DEFAULT, **values), notices


def options_query(options: FeatureOptions) -> dict[str, str]:
    """The query params that differ from the defaults (short share links).

    >>> options_query(FeatureOptions(bank="mix", relu=True))
    {'bank': 'mix', 'relu': '1'}
    """
    out = {}
    for key in OPTION_KEYS:
        value = getattr(options, key)
        if value != getattr(_DEFAULT, key):
            out[key] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    return out


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
    work_check(spec, shape)
    prepared = prepare_input(picture, spec.in_channels, height, width)
    with torch.random.fork_rng(devices=[]):  # torch's own init is overwritten: keep the global RNG untouched
        module = build_module(spec)
    filters = apply_bank(module, spec, bank, seed)
    x = torch.from_numpy(prepared.array)[None]
    try:
        with torch.inference_mode():
            y = module(x)
            if relu:
                y = torch.relu(y)
    except (RuntimeError, ValueError) as exc:  # safety net: conv_lab's checks should make this unreachable
        raise ConvConfigError("layer", f"torch rejected this configuration: {str(exc).splitlines()[0]}",
                              "change the parameter it names") from exc
    return FeatureRun(spec, prepared, filters, y, relu, module)
