"""The sweep animation: composited frames, the GIF, the offline player page and the README helper."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image, ImageSequence

from conv_lab import limits
from conv_lab.animate import BASE, HEIGHT, HOT, WIDTH, sweep_animation, write_sweep_gif
from conv_lab.state import LabConfig
from conv_lab.sweep import region_for
from conv_lab.sweep_data import SweepRequest, build_sweep

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
