"""What the Feature maps page shows of one run, drawn in the render worker for the sample pictures.

The run and its three pictures (input, the grid of maps, one map enlarged) took ~30 ms of the server's interpreter
per rerun, under the lock every student's rerun shares (issue 17). For a sample picture the worker runs the layer
and draws them, and the server receives only the pictures and the few facts the page prints. Uploads are run here
(their bytes stay in the server). When the worker pool cannot run, samples are run here too (render.pool).
"""

from __future__ import annotations

from dataclasses import dataclass

from conv_lab import limits
from conv_lab.core.spec import ConvSpec
from conv_lab.features.figures import enlarged_image, input_image, maps_grid_image
from conv_lab.features.images import Picture, sample_picture
from conv_lab.features.patch import cell_patch
from conv_lab.features.runs import run_feature_maps
from conv_lab.render.pool import exit_with_parent, in_worker_or_here, shared_render
from conv_lab.render.slots import heavy_work


@dataclass(frozen=True)
class FeatureView:
    """Everything the page shows of one run: small enough to come back from the worker (no maps, no module)."""

    source: str  # "sample 'scene'" or the upload's name and format
    torch_size: tuple[int, ...]
    input_chw: tuple[int, int, int]
    filter_names: tuple[str, ...]
    filter_sees: tuple[tuple[int, ...], ...]  # the input channels each filter reads
    channel_names: tuple[str, ...]
    notices: tuple[str, ...]  # what was done to the picture on the way in
    filter: int  # the followed filter, within this layer's
    cell: tuple[int, int]  # the outlined map cell, within this layer's maps
    input_png: bytes
    input_caption: str
    grid_png: bytes
    grid_caption: str
    big_png: bytes
    patch_text: str  # the enlarged map's window in words ('' without a patch)

    @property
    def maps_hw(self) -> tuple[int, int]:
        """(rows, columns) of one output map."""
        return self.torch_size[2], self.torch_size[3]


def _view(spec: ConvSpec, picture: Picture, height: int, width: int, bank: str, seed: int, relu: bool,
          own_size: bool, per_map: bool, filter_index: int, patch: bool, cell: tuple[int, int]) -> FeatureView:
    """Run the layer on the picture and draw what the page shows (a ConvConfigError when it cannot run)."""
    run = run_feature_maps(spec, picture, height, width, bank, seed, relu, own_size)
    chosen = min(filter_index, len(run.filters) - 1)
    cell = tuple(min(max(0, v), n - 1) for v, n in zip(cell, run.maps.shape[1:]))
    c, h, w = run.prepared.array.shape
    window = cell_patch(spec, (h, w), cell) if patch else None
    (input_png, input_caption), (grid_png, grid_caption) = input_image(run), maps_grid_image(run, per_map, chosen)
    return FeatureView(picture.source, tuple(run.torch_size), (c, h, w), tuple(f.name for f in run.filters),
                       tuple(f.sees for f in run.filters), tuple(run.prepared.channel_names),
                       (*picture.notices, *run.notices),
                       chosen, cell, input_png, input_caption, grid_png, grid_caption,
                       enlarged_image(run, chosen, per_map=per_map, patch=window),
                       window.text(spec.padding_mode) if window else "")


def _sample_view(spec: ConvSpec, image: str, *rest) -> FeatureView:
    """Runs in a render worker (or here): `_view` of a sample picture, named."""
    exit_with_parent()
    return _view(spec, sample_picture(image), *rest)


_in_worker = shared_render(maxsize=64, in_process=False, max_bytes=limits.FEATURE_VIEW_CACHE_BYTES)(_sample_view)
_here = shared_render(maxsize=64, max_bytes=limits.FEATURE_VIEW_CACHE_BYTES)(_sample_view)


def feature_view(spec: ConvSpec, picture: Picture | str, height: int, width: int, bank: str = "classic",
                 seed: int = 0, relu: bool = False, own_size: bool = False, per_map: bool = True,
                 filter_index: int = 0, patch: bool = False, cell: tuple[int, int] = (0, 0),
                 in_process: bool = False) -> FeatureView:
    """What the page shows of the layer on `picture` (a sample's name: run in the render worker; an upload: here).

    >>> view = feature_view(ConvSpec(3, 8, 3, padding=1), "scene", 32, 32, filter_index=9, in_process=True)
    >>> view.torch_size, view.filter, view.maps_hw, view.big_png[:4] == view.grid_png[:4] == b"\\x89PNG"
    ((1, 8, 32, 32), 7, (32, 32), True)
    """
    rest = (int(height), int(width), bank, int(seed), bool(relu), bool(own_size), bool(per_map), int(filter_index),
            bool(patch), tuple(int(v) for v in cell))
    if not isinstance(picture, str):  # an upload: the layer runs here, in the heavy lane (conv_lab.render.slots)
        with heavy_work():
            return _view(spec, picture, *rest)
    return _here(spec, picture, *rest) if in_process else in_worker_or_here(_in_worker, _here, spec, picture, *rest)
