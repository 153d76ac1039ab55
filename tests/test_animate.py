"""The sweep animation: composited frames, the GIF, the offline player page and the README helper."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image, ImageSequence

from conv_lab import limits
from conv_lab.core.state import LabConfig
from conv_lab.sweep.animate import BASE, HEIGHT, HOT, WIDTH, sweep_animation, write_sweep_gif
from conv_lab.sweep.data import SweepRequest, build_sweep
from conv_lab.sweep.steps import region_for

CASES = {
    "conv 5x5 k3 p1": SweepRequest(LabConfig(1, 5, 5, 1, padding=(1, 1))),
    "dilation 2, 3 channels": SweepRequest(LabConfig(3, 7, 7, 2, dilation=(2, 2), padding=(1, 1))),
    "stride 2 uncovered": SweepRequest(LabConfig(1, 6, 6, 1, stride=(2, 2), padding=(1, 1))),
    "transposed": SweepRequest(LabConfig(1, 3, 3, 1, stride=(2, 2), padding=(1, 1), transposed=True)),
    "reflect, floats": SweepRequest(LabConfig(1, 5, 5, 1, padding=(2, 2), padding_mode="reflect"), values="float"),
    "max pool ceil": SweepRequest(LabConfig(1, 5, 5, 1, kernel_size=(2, 2), stride=(2, 2)), op="max", ceil_mode=True),
}


def gif_frames(data: bytes) -> list[np.ndarray]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "GIF"
    return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(image)]


@pytest.mark.parametrize("name", list(CASES))
def test_gif_decodes_to_the_composited_frames(name):
    animation = sweep_animation(CASES[name])
    sweep = build_sweep(CASES[name])
    assert len(animation) == len(sweep) + 1
    frames = gif_frames(animation.gif_bytes)
    assert len(frames) == len(animation)
    for t, frame in enumerate(frames):
        assert frame.shape == (HEIGHT, WIDTH, 3)
        np.testing.assert_array_equal(frame, animation.frame_rgb(t), err_msg=f"frame {t}")
    assert all((a != b).any() for a, b in zip(frames, frames[1:])), "a step did not change the frame"
    Image.open(io.BytesIO(animation.frame_png(1))).verify()


def test_the_window_is_drawn_on_the_taps_of_each_step():
    request = CASES["conv 5x5 k3 p1"]
    animation, sweep = sweep_animation(request), build_sweep(request)
    for t in (0, 7, 24):
        frame = animation.compose(t)
        (r, c) = sweep[t].cells[4]  # the centre tap
        y = (animation.grid_y[r] + animation.grid_y[r + 1]) // 2
        x0, x1 = animation.grid_x[c] + 4, animation.grid_x[c + 1] - 4
        # the tap's cell comes from the highlighted layer, and differs from the plain grid there
        np.testing.assert_array_equal(frame[y, x0:x1], animation.layers[HOT][y, x0:x1])
        assert (animation.layers[HOT][y, x0:x1] != animation.layers[BASE][y, x0:x1]).any()


@pytest.mark.parametrize("name", ["dilation 2, 3 channels", "transposed", "max pool ceil"])
def test_every_cell_shows_its_kind_colour_and_each_state_recolours_the_whole_grid(name):
    from conv_lab.sweep.drawing import HOLE, KIND_COLOURS, NEVER, TAP, palette

    animation, sweep = sweep_animation(CASES[name]), build_sweep(CASES[name])
    flat, (g0, g1), (c0, c1) = palette().flat, animation.grid_rows, animation.grid_cols
    kinds = sweep.kinds[g0:g1, c0:c1]
    corner = lambda layer, r, c: int(animation.layers[layer][animation.grid_y[r] + 3, animation.grid_x[c] + 3])  # noqa: E731
    for r, c in np.ndindex(kinds.shape):  # a cell's corner: clear of its value and of the borders
        assert corner(BASE, r, c) == flat[KIND_COLOURS[kinds[r, c]]], f"cell {(r, c)} (drawn over by the stack?)"
        assert [corner(layer, r, c) for layer in (HOT, HOT + 1, HOT + 2)] == [flat[TAP], flat[HOLE], flat[NEVER]]


def test_frame_ops_stay_inside_the_image():
    for request in CASES.values():
        animation = sweep_animation(request)
        for t in range(len(animation)):
            ops = animation.frame_ops(t)
            for _, x0, y0, x1, y1 in ops.copies:
                assert -4 <= x0 < x1 <= WIDTH and -4 <= y0 < y1 <= HEIGHT
            for x, y, _, text in ops.texts:
                assert x + len(text) * animation.glyph_w <= WIDTH and y + animation.glyph_h <= HEIGHT


def test_end_frame_marks_never_read_cells():
    animation = sweep_animation(CASES["stride 2 uncovered"])
    lines = " ".join(text for *_, text in animation.frame_ops(len(animation) - 1).texts)
    assert "15 grid cells shown in red were never read" in lines


def test_player_page_is_offline_and_complete():
    animation = sweep_animation(CASES["dilation 2, 3 channels"])
    html = animation.player_html(start=3, fps=8)
    assert "http://" not in html and "https://" not in html, "the player must not fetch anything"
    assert re.findall(r'src="([^"]*)"', html) == []
    for label in ("First step", "Step back", "Play", "Step forward", "Last step", "Jump to step", "Speed"):
        assert f'aria-label="{label}"' in html
    assert html.count("<svg") >= 6
    assert f'data-frames="{len(animation)}"' in html and 'data-frame="3"' in html
    assert 'value="8" selected' in html


def test_large_sweep_animates_a_bounded_region():
    request = SweepRequest(LabConfig(3, 224, 224, 64, (7, 7), (2, 2), (3, 3)))
    sweep = build_sweep(request)
    region = region_for(sweep, 111, 111)
    animation = sweep_animation(request, region)
    assert len(animation) <= limits.MAX_SWEEP_FRAMES + 1
    assert (111, 111) in animation.positions
    assert animation.grid_rows[1] - animation.grid_rows[0] <= limits.MAX_SWEEP_GRID + 6
    row = sweep_animation(request, region_for(sweep, 50, 0, "row"))
    assert {r for r, _ in row.positions} == {50}


def test_write_sweep_gif_for_the_readme(tmp_path):
    path = write_sweep_gif(LabConfig(1, 4, 4, 1, padding=(1, 1)), tmp_path / "sweep.gif")
    assert len(gif_frames(path.read_bytes())) == 16 + 1


# The player's page, built once per animation, and the render worker (issue #9) --------------------------------

def player_frames(html: str) -> list:
    """The frame list a player page carries (base64 of deflated JSON, as the page's DecompressionStream reads it)."""
    import base64
    import json
    import zlib

    packed = re.search(r'const FRAMES = "([A-Za-z0-9+/=]*)";', html).group(1)
    frames, reads = json.loads(zlib.decompress(base64.b64decode(packed)))
    return frames


@pytest.mark.parametrize("name", ["dilation 2, 3 channels", "max pool ceil"])
def test_player_frames_are_the_frame_ops(name):
    from conv_lab.sweep.captions import HTML_CHANNELS, HTML_TERMS
    from conv_lab.sweep.data import step_lines

    animation = sweep_animation(CASES[name])
    frames = player_frames(animation.player_html())
    assert len(frames) == len(animation)
    s = animation.sweep
    for t, (copies, lines) in enumerate(frames):
        ops = animation.frame_ops(t)
        assert copies == [v for copy in ops.copies for v in copy]
        if t < len(animation.positions):  # the page shows the step's arithmetic as HTML text, the same numbers
            row, col = animation.positions[t]
            assert lines == step_lines(s, row * s.out_shape[1] + col, animation.values, HTML_CHANNELS, HTML_TERMS)
        else:
            assert lines[0].startswith("Done:")


def test_player_page_is_built_once_and_only_start_and_speed_change():
    animation = sweep_animation(CASES["conv 5x5 k3 p1"])
    assert animation.page is animation.page
    first, later = animation.player_html(0, 4), animation.player_html(7, 0.4)
    assert 'data-frame="7"' in later and 'value="0.5" selected' in later and 'value="4" selected' in first
    assert player_frames(first) == player_frames(later)
    assert "\x00" not in later, "a placeholder was left unfilled"
    assert 'data-frame="25"' in animation.player_html(999), "start is clamped to the last frame"


@pytest.fixture(scope="module")
def render_workers():
    """The render worker processes the tests below start, stopped when the module is done."""
    from conv_lab.render import pool as render_pool

    yield
    render_pool.shutdown_workers()


def test_worker_player_equals_the_in_process_one_and_repeats_come_from_the_cache(render_workers):
    from conv_lab.sweep import service

    request = SweepRequest(LabConfig(2, 9, 8, 3, kernel_size=(3, 2), stride=(2, 1), padding=(1, 1)), filter_index=2)
    sweep = build_sweep(request)
    region = region_for(sweep, 1, 1)
    local_before = sweep_animation.cache_info().currsize
    stats_before = service._player_in_worker.cache_stats()
    remote = service.sweep_player(request, region, 1)
    assert service._workers["ok"], "the render worker did not run"
    assert sweep_animation.cache_info().currsize == local_before, "the animation was drawn in this process"
    here = service.sweep_player(request, region, 1, in_process=True)
    assert remote == here and remote.player_html(3, 8) == sweep_animation(request, region, 1).player_html(3, 8)
    assert remote.positions == tuple(sweep_animation(request, region, 1).positions)
    again = service.sweep_player(request, region, 1)
    stats = service._player_in_worker.cache_stats()
    assert again is remote and stats["hits"] == stats_before["hits"] + 1 and stats["misses"] == stats_before["misses"] + 1
    assert remote.gif_bytes == sweep_animation(request, region, 1).gif_bytes


def test_a_bad_request_is_a_plain_error_from_the_worker_too(render_workers):
    from conv_lab.core.errors import ConvConfigError
    from conv_lab.sweep.service import sweep_player

    with pytest.raises(ConvConfigError) as caught:
        sweep_player(SweepRequest(LabConfig(2, 5, 5, 1), op="max", filter_index=7))
    assert caught.value.param == "channel" and "between 0 and 1" in caught.value.fix


def test_when_the_worker_pool_cannot_start_renders_run_here_with_a_log_line(monkeypatch, caplog):
    import time
    from concurrent.futures.process import BrokenProcessPool

    from conv_lab.sweep import service

    attempts = []

    def broken(*args):
        attempts.append(args)
        raise BrokenProcessPool("no processes in this sandbox")

    monkeypatch.setattr(service, "_player_in_worker", broken)
    monkeypatch.setitem(service._workers, "ok", True)
    monkeypatch.setitem(service._workers, "retry_at", 0.0)
    request, other = SweepRequest(LabConfig(1, 6, 5, 1, padding=(1, 2))), SweepRequest(LabConfig(1, 5, 6, 1))
    with caplog.at_level("WARNING", logger="conv_lab.sweep.service"):
        shown = service.sweep_player(request)
        assert shown.player_html(2) == sweep_animation(request).player_html(2)
        assert "render worker failed" in caplog.text and "no processes in this sandbox" in caplog.text
        assert not service._workers["ok"] and len(attempts) == 1
        # During the cool-down the next sweep renders here without knocking on the broken pool again ...
        assert service.sweep_player(other).player_html(1) == sweep_animation(other).player_html(1)
        assert len(attempts) == 1, "a broken pool was retried before its cool-down"
        # ... and after it, the pool is tried again: a transient failure does not last the lesson.
        assert service._workers["retry_at"] >= time.monotonic() + limits.RENDER_POOL_RETRY_SECONDS - 5
        monkeypatch.setitem(service._workers, "retry_at", time.monotonic() - 1)
        monkeypatch.setattr(service, "_player_in_worker", lambda *args: attempts.append(args) or shown)
        assert service.sweep_player(other) is shown and len(attempts) == 2
        assert service._workers["ok"], "a working pool was not taken back into use"


_SERVER_STAND_IN = """
import os, sys, time
sys.path.insert(0, {root!r})
from conv_lab.render import pool as render_pool
from conv_lab.sweep.service import sweep_player
from conv_lab.core.state import LabConfig
from conv_lab.sweep.data import SweepRequest

if __name__ == "__main__":
    sweep_player(SweepRequest(LabConfig(1, 4, 4, 1)))
    print(*render_pool.worker_pids(), flush=True)
    if sys.argv[1] == "wait":
        time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("ending", ["exit", "kill"])
def test_render_workers_end_with_the_server_process(tmp_path, ending):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    script = tmp_path / "server.py"
    script.write_text(_SERVER_STAND_IN.format(root=str(Path(__file__).resolve().parent.parent)))
    server = subprocess.Popen([sys.executable, str(script), "wait" if ending == "kill" else "exit"],
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "MPLBACKEND": "Agg"})
    try:
        workers = [int(pid) for pid in server.stdout.readline().split()]
        assert workers, "the stand-in server started no render worker"
        if ending == "kill":
            server.send_signal(signal.SIGKILL)  # no clean shutdown at all
        server.wait(timeout=60)
        deadline = time.monotonic() + 20
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in workers), f"render workers outlived the server ({ending})"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


@pytest.mark.parametrize("name", ["dilation 2, 3 channels", "stride 2 uncovered"])
def test_the_player_in_chromium_paints_the_composited_frames(browser_page, name):
    # The page carries band-only layers, the outline as a colour and deflated frames: the canvas must still show
    # exactly the frames numpy composites (and the GIF holds).
    import base64

    from conv_lab.sweep.drawing import TEXT_TOP

    animation = sweep_animation(CASES[name])
    browser_page.set_content(animation.player_html(0))
    browser_page.wait_for_selector("#sweep-player[data-ready='1']")
    for t in sorted({0, 1, len(animation) // 2, len(animation) - 1}):
        url = browser_page.evaluate("t => { draw(t); return document.getElementById('sweep-canvas').toDataURL(); }", t)
        shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))
        # the canvas stops above the GIF's text band: the arithmetic is HTML text under the player's controls
        np.testing.assert_array_equal(shown, animation.frame_rgb(t)[:TEXT_TOP - 8], err_msg=f"{name}: frame {t}")
