"""Feature maps: where one map cell looked — the patch equals the support of the real layer's gradient."""

from __future__ import annotations

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.spec import ConvSpec
from conv_lab.features.patch import cell_patch

from conftest import n_examples, run_app

PAGE = "pages/feature-maps.py"


@st.composite
def layers_and_cells(draw):
    """A random 2-D conv (zero padding, maybe strided and dilated), its input size and one output cell."""
    k, s, d = (tuple(draw(st.integers(lo, hi)) for _ in range(2)) for lo, hi in ((1, 5), (1, 3), (1, 3)))
    p = tuple(draw(st.integers(0, 3)) for _ in range(2))
    hw = tuple(draw(st.integers(1, 14)) for _ in range(2))
    try:
        spec = ConvSpec(2, 3, k, s, p, d)
        out = spec.output_shape((1, 2, *hw))[2:]
    except ConvConfigError:
        assume(False)
    return spec, hw, tuple(draw(st.integers(0, n - 1)) for n in out)


@settings(max_examples=n_examples(150), deadline=None)
@given(layers_and_cells())
def test_the_outlined_patch_is_what_the_cell_s_gradient_reaches(layer):
    """Weights of 1: the input cells ∂y[cell]/∂x reaches are the window's real cells; the box clipped to the input is
    their bounding box whenever the window's extreme taps land on input cells (else it may be larger: padding)."""
    spec, hw, cell = layer
    module = spec.to_module().double()
    torch.nn.init.ones_(module.weight)
    x = torch.ones(1, 2, *hw, dtype=torch.float64, requires_grad=True)
    module(x)[0, :, cell[0], cell[1]].sum().backward()
    reached = x.grad[0].sum(0).nonzero()
    (r0, r1), (c0, c1) = cell_patch(spec, hw, cell).clipped
    assert all(r0 <= r < r1 and c0 <= c < c1 for r, c in reached.tolist())
    patch = cell_patch(spec, hw, cell)
    if patch.outside == 0:
        assert (int(reached[:, 0].min()), int(reached[:, 0].max()) + 1) == (r0, r1)
        assert (int(reached[:, 1].min()), int(reached[:, 1].max()) + 1) == (c0, c1)


@pytest.mark.parametrize("cell, expected", [("3,4", "cell (3, 4) read input rows 6 to 10 × columns 8 to 12 (5×5 cells)"),
                                            ("999,0", "cell (13, 0) read input rows 26 to 30 × columns 0 to 4")])
def test_a_link_outlines_one_cell_and_the_input_it_read(cell, expected):
    at = run_app(PAGE, {"input": "3x32x32", "filters": "4", "kernel": "5", "stride": "2", "patch": "1", "cell": cell})
    assert not at.exception, [e.value for e in at.exception]
    captions = [img.proto.imgs[0].caption for img in at.get("image")]
    assert any(expected in c for c in captions), captions
    assert at.number_input(key="w_fm_row").value == int(expected.split("(")[1].split(",")[0])
    at.number_input(key="w_fm_col").set_value(2).run()
    row = at.number_input(key="w_fm_row").value
    assert str(at.query_params["cell"]).strip("[]'") == f"{row},2" and str(at.query_params["patch"]).strip("[]'") == "1"
    captions = [img.proto.imgs[0].caption for img in at.get("image")]
    assert any("columns 4 to 8" in c for c in captions), captions
    at.toggle(key="w_fm_patch").set_value(False).run()
    assert not any("read input rows" in img.proto.imgs[0].caption for img in at.get("image"))
