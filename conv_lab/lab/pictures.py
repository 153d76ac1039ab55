"""The Shape Lab's two pictures, drawn in the render worker: the server's interpreter only waits for their bytes.

A rerun with a new layer drew both pictures in the server's process: 3–13 ms of CPU under the interpreter lock
that every student's rerun shares (issue 17). In the worker they cost the server ~1 ms (sending the layer, receiving
~20 KB of PNG); repeats come from the cache. When the worker pool cannot run, they are drawn here (render.pool).
"""

from __future__ import annotations

from conv_lab import limits
from conv_lab.core.params import LayerSpec
from conv_lab.lab.blocks import layer_blocks_png
from conv_lab.lab.grid_picture import layer_grid_png
from conv_lab.render.pool import exit_with_parent, in_worker_or_here, shared_render

Picture = tuple[bytes, str]  # PNG bytes and caption


def _draw(spec: LayerSpec, input_size: tuple[int, ...], output_size: tuple[int, ...]) -> tuple[Picture, Picture]:
    """Runs in a render worker: (grid, blocks). A ConvConfigError pickles by its fields and is raised in the server."""
    exit_with_parent()
    return (layer_grid_png(spec, input_size),
            layer_blocks_png(spec.in_channels, spec.out_channels, spec.groups, spec.kernel_nd, input_size,
                             output_size, spec.transposed))


_in_worker = shared_render(maxsize=256, in_process=False, max_bytes=limits.LAB_PICTURE_CACHE_BYTES)(_draw)
_here = shared_render(maxsize=256, max_bytes=limits.LAB_PICTURE_CACHE_BYTES)(_draw)


def layer_pictures(spec: LayerSpec, input_size: tuple[int, ...], output_size: tuple[int, ...],
                   in_process: bool = False) -> tuple[Picture, Picture]:
    """The padded-grid picture and the tensors-as-blocks picture of a layer, each (PNG, caption).

    >>> from conv_lab.core.spec import ConvSpec
    >>> (grid, grid_caption), (blocks, caption) = layer_pictures(ConvSpec(3, 16, 3), (32, 32), (30, 30), in_process=True)
    >>> grid[:4] == blocks[:4] == b"\\x89PNG", grid_caption.split(" = ")[0], caption.split(";")[0]
    (True, 'Padded input 32×32', 'Conv2d: input 3×32×32 volume, 16 filters of 3×3×3, output 16×30×30')
    """
    args = (spec, tuple(input_size), tuple(output_size))
    return _here(*args) if in_process else in_worker_or_here(_in_worker, _here, *args)
