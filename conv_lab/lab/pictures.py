"""The Shape Lab's two pictures, drawn in their own worker process while the page does its other work.

A rerun with a new layer drew both pictures in the server's process: 3–13 ms of CPU under the interpreter lock
that every student's rerun shares (issue 17). In the worker they cost the server ~1 ms (sending the layer, receiving
~20 KB of PNG); repeats come from the cache. The page starts them first and takes them last (`start_layer_pictures`,
over `render.direct`'s pipes), so it does not wait for them or give its script slot away meanwhile. When no worker
can draw, they are drawn here.
"""

from __future__ import annotations

from collections.abc import Callable

from conv_lab import limits
from conv_lab.byte_cache import ByteLRU
from conv_lab.core.params import LayerSpec
from conv_lab.lab.blocks import layer_blocks_png
from conv_lab.lab.grid_picture import layer_grid_png
from conv_lab.render.direct import DirectWorker, WorkerGone
from conv_lab.render.pool import shared_render

Picture = tuple[bytes, str]  # PNG bytes and caption


def _draw(spec: LayerSpec, input_size: tuple[int, ...], output_size: tuple[int, ...]) -> tuple[Picture, Picture]:
    """Runs in the picture worker: (grid, blocks). A ConvConfigError pickles by its fields and is raised in the server.
    (The worker ends with the server by itself: its pipes close.)"""
    return (layer_grid_png(spec, input_size),
            layer_blocks_png(spec.in_channels, spec.out_channels, spec.groups, spec.kernel_nd, input_size,
                             output_size, spec.transposed))


WORKER = DirectWorker("Shape Lab pictures")  # its own process: never queued behind a sweep's or feature map's render
_drawn = ByteLRU(limits.LAB_PICTURE_CACHE_BYTES, maxsize=256)  # pictures from the worker, shared by every session
_here = shared_render(maxsize=256, max_bytes=limits.LAB_PICTURE_CACHE_BYTES)(_draw)  # when no worker can draw


def start_layer_pictures(spec: LayerSpec, input_size: tuple[int, ...], output_size: tuple[int, ...],
                         in_process: bool = False) -> Callable[[], tuple[Picture, Picture]]:
    """Start drawing the layer's two pictures in the worker now; the returned function gives them, each (PNG,
    caption), waiting only for what is not drawn yet. A page calls this first and the function last, so the worker
    draws while the page works out the formula and runs PyTorch.

    >>> from conv_lab.core.spec import ConvSpec
    >>> pictures = start_layer_pictures(ConvSpec(3, 16, 3), (32, 32), (30, 30), in_process=True)
    >>> (grid, grid_caption), (blocks, caption) = pictures()
    >>> grid[:4] == blocks[:4] == b"\\x89PNG", grid_caption.split(" = ")[0], caption.split(";")[0]
    (True, 'Padded input 32×32', 'Conv2d: input 3×32×32 volume, 16 filters of 3×3×3, output 16×30×30')
    """
    key = (spec, tuple(input_size), tuple(output_size))
    found = _drawn.get(key)
    if found is not None:
        return lambda: found
    if in_process:
        return lambda: _here(*key)
    try:
        pending = WORKER.start(_draw, *key)
    except WorkerGone:  # logged by the worker; this rerun draws here
        return lambda: _here(*key)

    def pictures() -> tuple[Picture, Picture]:
        try:
            drawn = pending.result()  # a ConvConfigError from the worker is raised here, as drawn here
        except WorkerGone:
            return _here(*key)
        _drawn.put(key, drawn)
        return drawn

    return pictures


def layer_pictures(spec: LayerSpec, input_size: tuple[int, ...], output_size: tuple[int, ...],
                   in_process: bool = False) -> tuple[Picture, Picture]:
    """The padded-grid picture and the tensors-as-blocks picture of a layer, each (PNG, caption), drawn now.

    >>> from conv_lab.core.spec import ConvSpec
    >>> (grid, grid_caption), (blocks, caption) = layer_pictures(ConvSpec(3, 16, 3), (32, 32), (30, 30), in_process=True)
    >>> grid[:4] == blocks[:4] == b"\\x89PNG", grid_caption.split(" = ")[0], caption.split(";")[0]
    (True, 'Padded input 32×32', 'Conv2d: input 3×32×32 volume, 16 filters of 3×3×3, output 16×30×30')
    """
    return start_layer_pictures(spec, input_size, output_size, in_process)()
