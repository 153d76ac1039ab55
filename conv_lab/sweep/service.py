"""The sweep's render service: animations and their player pages rendered in the worker pool, shared by sessions.

A render runs in a worker process (`render.pool`), so a big sweep never holds the server's interpreter;
every session asking for the same request gets the same `SweepPlayer`. When the pool cannot run, renders
run in the server's process for a cool-down (logged), then the pool is tried again. The page itself is
built by `sweep.player_page`, the animation by `sweep.animate`.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any, Optional

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.render.pool import exit_with_parent, in_worker_or_here, shared_render
from conv_lab.render.pool import worker_health as _workers  # noqa: F401 (tests set the pool's health here)
from conv_lab.sweep.data import SweepRequest
from conv_lab.sweep.player_page import PlayerPage
from conv_lab.sweep.steps import Region

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepPlayer:
    """What the sweep page shows of one animation: its positions and player page, the GIF on demand (pickles)."""

    request: SweepRequest
    region: Region
    front: int
    positions: tuple[tuple[int, int], ...]
    page: PlayerPage

    def __len__(self) -> int:
        return len(self.page)

    @property
    def nbytes(self) -> int:
        """Estimated bytes held (for byte-bounded caches): the page's text and the position tuples."""
        return sys.getsizeof(self.page.template) + 120 * len(self.positions)

    def player_html(self, start: int = 0, fps: float = 4.0, timeline: str = "") -> str:
        """The player page starting at frame `start` at `fps` steps per second (timeline: see `PlayerPage.html`)."""
        return self.page.html(start, fps, timeline)

    @property
    def gif_bytes(self) -> bytes:
        """The animation as a looping GIF (rendered off the server's interpreter, cached)."""
        return in_worker_or_here(_gif_in_worker, _gif_here, self.request, self.region, self.front)


def _render_player(request: SweepRequest, region: Optional[Region], front: int) -> Any:
    """Runs in a render worker: the animation and its player page (a ConvConfigError comes back as a tuple)."""
    from conv_lab.sweep.animate import sweep_animation

    exit_with_parent()
    try:
        animation = sweep_animation(request, region, front)
    except ConvConfigError as exc:  # its constructor takes 3 arguments: it would not unpickle on the way back
        return ("ConvConfigError", exc.param, exc.why, exc.fix)
    return SweepPlayer(request, animation.region, front, tuple(animation.positions), animation.page)


def _render_gif(request: SweepRequest, region: Optional[Region], front: int) -> bytes:
    """Runs in a render worker: the animation's GIF."""
    from conv_lab.sweep.animate import sweep_animation

    exit_with_parent()
    return sweep_animation(request, region, front).gif_bytes


# Bounded in bytes too (issue 17 item 5): a player is ~0.3 MB, a GIF up to ~6 MB.
_player_in_worker = shared_render(maxsize=16, in_process=False, max_bytes=limits.PLAYER_CACHE_BYTES)(_render_player)
_player_here = shared_render(maxsize=16, max_bytes=limits.PLAYER_CACHE_BYTES)(_render_player)
_gif_in_worker = shared_render(maxsize=4, in_process=False, max_bytes=limits.GIF_CACHE_BYTES)(_render_gif)
_gif_here = shared_render(maxsize=4, max_bytes=limits.GIF_CACHE_BYTES)(_render_gif)
def sweep_player(request: SweepRequest, region: Optional[Region] = None, front: int = 0,
                 in_process: bool = False) -> SweepPlayer:
    """The player of a request's region, rendered once in a worker process and shared by every session.

    >>> from conv_lab.core.state import LabConfig
    >>> player = sweep_player(SweepRequest(LabConfig(1, 4, 4, 1)), in_process=True)
    >>> len(player), player.positions[:2], 'data-frame="4"' in player.player_html(9)
    (5, ((0, 0), (0, 1)), True)
    """
    result = _player_here(request, region, front) if in_process else \
        in_worker_or_here(_player_in_worker, _player_here, request, region, front)
    if isinstance(result, tuple):
        raise ConvConfigError(*result[1:])
    return result
