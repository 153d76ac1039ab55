"""The planner's receptive field of one cell against torch: the analytic box (walked back through the plan, skips
included) and the support of the real gradient (autograd on the planner's rebuilt torch layers).

Random dilated, strided and padded conv and pooling stacks in 1-D, 2-D and 3-D, with an optional (cropped) skip:
the clipped box always contains the measured support, and equals its bounding box on every side where the unclipped
box stays inside the input (zero padding; with a skip, when the whole box stays inside). Transposed layers and
interpolation only promise "contains".
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from conv_lab.core.receptive import Pool, receptive_field
from conv_lab.core.spec import ConvSpec
from conv_lab.network.flow import Skip
from conv_lab.network.plan import plan
from conv_lab.network.receptive import Choice, choose, default_point, input_field, map_points, sizes_at, walk
from conv_lab.network.rf_measure import WindowSum, measure, measure_work, over_cap
from conv_lab.network.rf_picture import rf_png, view

from conftest import n_examples

SIZES = {1: (6, 40), 2: (5, 18), 3: (4, 9)}


def _sizes(draw, lo, hi, dims):
    values = [draw(st.integers(lo, hi)) for _ in range(dims)]
    return str(values[0]) if len(set(values)) == 1 else "(" + ", ".join(map(str, values)) + ")"


@st.composite
def stacks(draw, dims: int, exotic: bool):
    """(input shape, rows, skips, exact): rows as the planner's table holds them."""
    rows = []
    kinds = ["conv", "conv", "max", "avg", "relu"] + (["transposed", "upsample", "adaptive"] if exotic else [])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(kinds))
        if kind == "relu":
            rows.append(draw(st.sampled_from([("ReLU", ""), (f"BatchNorm{dims}d", ""), ("Dropout", "p=0.5")])))
        elif kind in ("conv", "transposed"):
            name = f"Conv{dims}d" if kind == "conv" else f"ConvTranspose{dims}d"
            text = (f"out_channels={draw(st.integers(1, 3))}, kernel_size={_sizes(draw, 1, 4, dims)}, "
                    f"stride={_sizes(draw, 1, 3, dims)}, padding={_sizes(draw, 0, 2, dims)}, "
                    f"dilation={_sizes(draw, 1, 3, dims)}")
            if kind == "conv" and draw(st.booleans()):
                text += ", groups=1, bias=False"
            rows.append((name, text))
        elif kind in ("max", "avg"):
            k = draw(st.integers(1, 3))
            text = f"kernel_size={k}, stride={draw(st.integers(1, 3))}, padding={draw(st.integers(0, k // 2))}, " \
                   f"ceil_mode={draw(st.booleans())}"
            if kind == "max":
                text += f", dilation={draw(st.integers(1, 2))}"
            rows.append((f"MaxPool{dims}d" if kind == "max" else f"AvgPool{dims}d", text))
        elif kind == "upsample":
            mode = draw(st.sampled_from(["nearest", {1: "linear", 2: "bilinear", 3: "trilinear"}[dims]]))
            rows.append(("Upsample", f"scale_factor={draw(st.sampled_from([2, 3, 1.5, 0.5]))}, mode='{mode}'"))
        else:
            rows.append((f"AdaptiveAvgPool{dims}d", f"output_size={draw(st.integers(1, 4))}"))
    lo, hi = SIZES[dims]
    shape = (1, draw(st.integers(1, 2)), *(draw(st.integers(lo, hi)) for _ in range(dims)))
    skips = []
    if len(rows) >= 2 and draw(st.booleans()):
        target = draw(st.integers(2, len(rows)))
        skips.append(Skip(draw(st.sampled_from(["cat", "add"])), draw(st.integers(0, target - 1)), target, True))
    return shape, rows, skips


def _bbox(support: np.ndarray) -> list[tuple[int, int]] | None:
    if not support.any():
        return None
    return [(int(np.flatnonzero(support.any(axis=tuple(a for a in range(support.ndim) if a != axis)))[0]),
             int(np.flatnonzero(support.any(axis=tuple(a for a in range(support.ndim) if a != axis)))[-1]) + 1)
            for axis in range(support.ndim)]


def _check(shape, rows, skips, exact, data, draw_it=False):
    result = plan(shape, rows, skips)
    assume(result.ok)
    points = map_points(result)
    assume(points and measure_work(result, points[-1]) < 2_000_000)
    point = data.draw(st.sampled_from(points))
    sizes = sizes_at(result, point)
    choice = Choice(point, tuple(data.draw(st.integers(0, n - 1)) for n in sizes))
    rows_out = walk(result, choice)
    assert rows_out[0].point == point and rows_out[0].size == (1,) * len(sizes)
    field = input_field(rows_out)
    support = measure(result, choice).support
    box = _bbox(support)
    n_in = shape[2:]
    if field is None:  # a transposed layer's cell between its strided inputs reads nothing
        assert box is None, (rows, skips, choice)
        return
    clipped = field.clipped(n_in)
    if draw_it:  # any box and support draws (a 1-D strip, a plane, a 3-D slice), in a phone's width too
        assert rf_png(view(field, support, data.draw(st.sampled_from([None, 320]))))[:4] == b"\x89PNG"
    if box is None:
        crosses = any(a < 0 or b > n for a, b, n in zip(field.start, field.stop, n_in))
        assert not exact or crosses, (rows, skips, choice, field)
        return
    inside = all(a >= 0 and b <= n for a, b, n in zip(field.start, field.stop, n_in))
    # Per side for a chain; with a skip only when the whole box is inside: the hull of the two branches' boxes may take
    # one axis's extent from a branch whose cells are all padding along another axis (so that branch reads nothing)
    exact = exact and (inside or not skips)
    for axis, n in enumerate(n_in):
        assert clipped[axis][0] <= box[axis][0] and box[axis][1] <= clipped[axis][1], (rows, skips, choice, field, box)
        if exact and field.start[axis] >= 0:
            assert box[axis][0] == field.start[axis], (rows, skips, choice, field, box)
        if exact and field.stop[axis] <= n:
            assert box[axis][1] == field.stop[axis], (rows, skips, choice, field, box)


@pytest.mark.parametrize("dims", [1, 2, 3])
@given(data=st.data())
@settings(max_examples=n_examples(200, 30))
def test_clipped_box_is_the_bounding_box_of_the_autograd_support(dims, data):
    shape, rows, skips = data.draw(stacks(dims, exotic=False))
    _check(shape, rows, skips, True, data)


@pytest.mark.parametrize("dims", [1, 2, 3])
@given(data=st.data())
@settings(max_examples=n_examples(150, 25))
def test_transposed_interpolating_and_adaptive_layers_keep_the_support_inside_the_box(dims, data):
    shape, rows, skips = data.draw(stacks(dims, exotic=True))
    _check(shape, rows, skips, False, data, draw_it=True)


@given(data=st.data())
@settings(max_examples=n_examples(150, 30))
def test_the_planner_walk_equals_the_core_receptive_field_on_plain_stacks(data):
    shape, rows, _ = data.draw(stacks(2, exotic=False))
    result = plan(shape, rows)
    assume(result.ok and map_points(result) == list(range(1, len(rows) + 1)))
    specs = []
    for row in result.rows:
        kw = row.kwargs
        if row.kind.startswith("Conv"):
            specs.append(ConvSpec(kw["in_channels"], kw["out_channels"], kw["kernel_size"], kw["stride"], kw["padding"],
                                  kw["dilation"], transposed=row.kind.startswith("ConvT")))
        elif "Pool" in row.kind:
            specs.append(Pool(kw["kernel_size"], kw.get("stride"), kw.get("padding", 0), kw.get("dilation", 1),
                              kw.get("ceil_mode", False)))
    assume(len(specs) == len(rows))
    sizes = sizes_at(result, len(rows))
    cell = tuple(data.draw(st.integers(0, n - 1)) for n in sizes)
    assert input_field(walk(result, Choice(len(rows), cell))) == receptive_field(specs, shape, cell)


def test_window_sum_has_max_pooling_s_shape():
    for k, s, p, d, ceil, n in ((3, 2, 1, 2, True, 11), (2, 3, 1, 1, True, 8), (3, 1, 0, 3, False, 9)):
        pool = nn.MaxPool1d(k, s, p, d, ceil_mode=ceil)
        window = WindowSum(1, (k,), (s,), (p,), (d,), ceil)
        x = torch.ones(1, 2, n, dtype=torch.float64)
        assert window(x).shape == pool(x).shape


def test_a_dilated_stack_leaves_gridding_holes_the_box_does_not_show():
    result = plan((1, 1, 32, 32), [("Conv2d", "out_channels=4, kernel_size=3, dilation=2")] * 2 + [("ReLU", "")])
    choice = Choice(3, (10, 10))
    field = input_field(walk(result, choice))
    assert field.start == (10, 10) and field.size == (9, 9)
    support = measure(result, choice).support
    inside = support[10:19, 10:19]
    assert inside.sum() == 25 and inside[::2, ::2].all()  # only the even cells: the holes of dilation 2, twice


def test_padding_misalignment_leaves_the_first_input_cells_unread():
    result = plan((1, 1, 16, 16), [("Conv2d", "out_channels=1, kernel_size=3, stride=2, padding=3")])
    choice = Choice(1, (0, 0))
    field = input_field(walk(result, choice))
    assert field.start == (-3, -3) and field.stop == (0, 0)  # every tap of cell (0, 0) is padding
    result = plan((1, 1, 16, 16), [("Conv2d", "out_channels=1, kernel_size=3, dilation=2, padding=3")])
    field = input_field(walk(result, Choice(1, (0, 0))))
    support = measure(result, Choice(1, (0, 0))).support
    assert field.start == (-3, -3) and field.clipped((16, 16)) == ((0, 2), (0, 2))
    assert not support[0, 0] and support[1, 1] and support.sum() == 1  # taps at −3, −1, 1: only cell (1, 1) is real


def test_circular_padding_reads_the_far_side():
    result = plan((1, 1, 8), [("Conv1d", "out_channels=1, kernel_size=3, padding=1, padding_mode='circular'")])
    field = input_field(walk(result, Choice(1, (0,))))
    support = measure(result, Choice(1, (0,))).support
    assert field.start == (-1,) and support.tolist() == [True, True] + [False] * 5 + [True]


def test_skips_take_the_hull_of_both_branches_with_the_crop_offset():
    # U-Net style: point 1 (10×10) centre-cropped by 2 into point 3 (6×6)
    rows = [("Conv2d", "out_channels=2, kernel_size=3"), ("Conv2d", "out_channels=2, kernel_size=3"),
            ("Conv2d", "out_channels=2, kernel_size=3")]
    result = plan((1, 1, 12, 12), rows, [Skip("cat", 1, 3, True)])
    assert result.ok
    out = walk(result, Choice(3, (0, 5)))
    by_point = {r.point: r for r in out}
    # main branch: 0..4 × 5..9 of point 1; the skip reads cell (0 + 2, 5 + 2) of it (the crop cut 2 before)
    assert by_point[1].start == (0, 5) and by_point[1].size == (5, 5)
    assert input_field(out).start == (0, 5) and input_field(out).size == (7, 7)
    support = measure(result, Choice(3, (0, 5))).support
    assert _bbox(support) == [(0, 7), (5, 12)]
    # a residual add from the input, centre-cropped: the skip reads cell (7 + 3, 0 + 3), inside the main branch's box
    result = plan((1, 2, 14, 14), rows[:2] + [("Conv2d", "out_channels=2, kernel_size=3")], [Skip("add", 0, 3, True)])
    out, cell = walk(result, Choice(3, (7, 0))), Choice(3, (7, 0))  # 14 → 8: the skip's crop cuts 3 before
    assert {r.point for r in out} == {0, 1, 2, 3} and input_field(out).start == (7, 0)
    assert input_field(out).stop == (14, 7)
    assert _bbox(measure(result, cell).support) == [(7, 14), (0, 7)]


def test_choose_clamps_and_drops_hostile_values():
    result = plan((1, 1, 8, 8), [("Conv2d", "out_channels=2, kernel_size=3"), ("ReLU", ""), ("Flatten", ""),
                                 ("Linear", "out_features=3")])
    assert map_points(result) == [1, 2] and default_point(result) == 2
    assert choose(result, "1,2") == Choice(2, (1, 2))
    assert choose(result, "1,2@1") == Choice(1, (1, 2))
    for text, words in (("1", "has 1 indices"), ("1,2,3", "has 3 indices"), ("a,b", "is not a cell"),
                        ("1,2@x", "is not a layer number"), ("1,2@4", "point 4 is not a map"),
                        ("-4,99", "index 99 is outside 0..5")):
        choice = choose(result, text)
        assert choice.point in (1, 2) and all(0 <= c < 6 for c in choice.cell)
        assert any(words in n for n in choice.notices), (text, choice)
    assert choose(plan((1, 1, 8, 8), [("Flatten", "")]), "1,1") is None


def test_the_measurement_is_capped():
    big = plan((1, 1, 1024, 1024), [("Conv2d", "out_channels=1, kernel_size=5, padding=2")] * 4)
    assert "above Conv Lab's cap" in over_cap(big, 4)
    small = plan((1, 1, 64, 64), [("Conv2d", "out_channels=1, kernel_size=5, padding=2")] * 4)
    assert over_cap(small, 4) == "" and measure_work(small, 4) == round(4 * 64 * 64 * (25 * 1.13 + 4))


def test_the_measurement_shares_the_request_s_cpu_budget_with_torch_s_run():
    from conv_lab import limits
    from conv_lab.network.rf_measure import allowed_work
    from conv_lab.network.rf_view import picture
    from conv_lab.network.torch_run import cache_clear, run_plan

    result = plan((1, 64, 64, 64), [("ConvTranspose2d", "out_channels=64, kernel_size=3, padding=1")] * 2)
    cache_clear()
    run = run_plan(result)
    assert run.cpu_seconds > 0 and set(run.devices) == {"cpu"}  # transposed layers are checked on the CPU
    assert run_plan(result).cpu_seconds < run.cpu_seconds  # the second time from the cache
    assert allowed_work(limits.MAX_REQUEST_SECONDS) == 0
    spent = picture(result, Choice(2, (3, 3)), spent=limits.MAX_REQUEST_SECONDS)
    assert spent.png is None and "left of this request's CPU budget" in spent.message
    assert picture(result, Choice(2, (3, 3))).png is not None
