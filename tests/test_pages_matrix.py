"""AppTest of the /matrix page: the real app, every control, configs that fit, are too large, or cannot run."""

from __future__ import annotations

import pytest

from conftest import run_app, shown_code

PAGE = "pages/matrix.py"
SMALL = {"input": "1x4x4", "filters": "1", "kernel": "3", "stride": "1", "padding": "0"}


def _text(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    parts += [s.value for s in at.success] + [w.value for w in at.warning] + [e.value for e in at.error]
    parts += [c.value for c in at.code] + [h.value for h in at.header]
    return "\n".join(str(p) for p in parts)


def _ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _select(at, label):
    return next(s for s in at.selectbox if s.label.startswith(label))


def test_small_layer_shows_c_worked_out_transpose_and_im2col():
    at = run_app(PAGE, SMALL)
    _ok(at)
    text = _text(at)
    assert "Each **row** of C is one output cell (4 rows)" in text and "(16 columns)" in text
    assert len(at.get("image")) == 5  # window, C, C·x, C beside Cᵀ, im2col
    assert [s.value for s in at.success] == ["Equal: largest difference 0 (whole-number weights and inputs, so every "
                                             "sum is exact).", "Equal: largest difference 0."]
    assert "F.conv_transpose2d(y, layer.weight, padding=0, output_padding=0" in text
    assert "F.unfold" in text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Input": "64 B", "Patch matrix": "144 B", "Patch matrix ÷ input": "2.2×"}
    assert not at.warning


def test_stride_two_padding_toggle_and_output_padding():
    at = run_app(PAGE, {**SMALL, "input": "1x6x6", "stride": "2", "padding": "1"})
    _ok(at)
    assert "output_padding=1" in _text(at)
    assert "inputs of 5 (output_padding=0), 6 (output_padding=1) all give 3" in _text(at)
    assert "Turn on *Padding cells as columns*" in _text(at)
    toggle = next(t for t in at.toggle if t.label == "Padding cells as columns")
    toggle.set_value(True).run()
    _ok(at)
    assert at.query_params["show_padding"] == ["1"] or at.query_params["show_padding"] == "1"
    assert "Grey columns are the 28 padding cells" in _text(at)
    # the sentence above C counts the columns the picture shows: the padding cells are columns now
    assert "each **column** one cell of the padded input (64 columns: 36 input cells + 28 padding cells)" in _text(at)
    assert "(36 columns)" not in _text(at)


def test_cell_selector_writes_the_url_and_a_bad_url_cell_is_clamped():
    at = run_app(PAGE, {**SMALL, "input": "1x5x5", "cell": "9,9"})
    _ok(at)
    assert any("cell=9,9 is outside the 3×3 output; using (2,2)" in w.value for w in at.warning)
    cell = _select(at, "Output cell")
    assert cell.value == (2, 2)
    cell.set_value((1, 0)).run()
    _ok(at)
    assert str(at.query_params["cell"]).strip("[]'") == "1,0"
    cell = _select(at, "Output cell")
    cell.set_value((0, 0)).run()
    assert "cell" not in at.query_params


def test_channels_filters_groups_blocks_toggle_and_selectors():
    at = run_app(PAGE, {"input": "2x4x4", "filters": "4", "kernel": "3", "groups": "2"})
    _ok(at)
    assert "groups=2 the blocks outside a filter's group are all zero" in _text(at)
    _select(at, "Filter").set_value(3).run()
    _select(at, "Input channel").set_value(1).run()
    _ok(at)
    assert str(at.query_params["filter"]).strip("[]'") == "3"
    assert str(at.query_params["channel"]).strip("[]'") == "1"
    whole = next(t for t in at.toggle if t.label == "Whole C (every block)")
    assert whole.value is True
    assert "Shown for the block" not in _text(at)  # the whole C·x (16×32) is readable
    whole.set_value(False).run()
    _ok(at)
    assert str(at.query_params["blocks"]).strip("[]'") == "0"
    assert len(at.get("image")) == 5 and len(at.success) == 2
    # y = C·x is drawn for the block shown above, and says so (channel 1 is in filter 3's group)
    assert "Shown for the block filter 3 × channel 1: C[3,1]·x[1] is channel 1's share of filter 3's output" in _text(at)
    assert not any("Then + bias" in c.value for c in at.caption)


def test_bad_filter_and_channel_in_url_become_notices():
    at = run_app(PAGE, {"input": "2x4x4", "filters": "2", "kernel": "3", "filter": "banana", "channel": "7"})
    _ok(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "filter='banana' is not a whole number" in warnings and "channel=7 must be between 0 and 1" in warnings


def test_too_large_draws_the_largest_layer_that_fits_and_offers_it_to_the_sidebar():
    at = run_app(PAGE)  # the default 3×32×32, 16 filters: C would be 14400×3072
    _ok(at)
    (notice,) = [i.value for i in at.info if "C would be 14400×3072" in i.value]
    assert "Shown instead: the largest layer with your kernel, stride and padding that fits: input 3×7×7" in notice
    assert len(at.get("image")) == 5 and len(at.success) == 2  # the smaller layer's C, drawn and checked at once
    assert "y = C·x, worked out" in _text(at)
    assert at.query_params["input"] == "3x32x32" and "input=3x32x32" in shown_code(at)[-1]  # the sidebar's layer kept
    (button,) = at.button
    assert button.label == "Use this smaller layer in the sidebar"
    button.click().run()
    _ok(at)
    assert not any("C would be" in i.value for i in at.info)
    assert len(at.get("image")) == 5 and at.query_params["input"] == "3x7x7"


def test_whole_c_too_large_shows_one_block_and_still_offers_smaller():
    at = run_app(PAGE, {"input": "3x10x10", "filters": "16", "kernel": "3"})
    _ok(at)
    assert any("Showing one block: filter 0 × channel 0" in w.value for w in at.warning)
    assert "Shown for the block filter 0 × channel 0: C[0,0]·x[0] is channel 0's share" in _text(at)
    assert len(at.get("image")) == 5 and at.button
    assert not any(t.label == "Whole C (every block)" for t in at.toggle)


def test_transposed_layer_is_explained_as_c_transpose():
    at = run_app(PAGE, {"input": "1x3x3", "filters": "1", "kernel": "3", "stride": "2", "padding": "1",
                        "transposed": "1", "output_padding": "1"})
    _ok(at)
    text = _text(at)
    assert "This layer is a ConvTranspose2d: it is Cᵀ" in text
    assert "y = Cᵀ·x, worked out" in text and "F.conv2d(z, layer.weight" in text
    assert "**Cᵀ·x + b reshaped**" in text and "**C·x + b reshaped**" not in text  # labelled as its heading
    assert "your output_padding picks **6**" in text
    assert "F.fold" in text
    assert len(at.success) == 2 and not at.error
    assert _select(at, "Input cell of the layer").value == (0, 0)
    assert "Count the non-zeros in each row of Cᵀ" in text  # kernel 3, stride 2: the checkerboard
    alts = [image.proto.imgs[0].alt for image in at.get("image")]
    assert any(alt.startswith("Overlap map of ConvTranspose2d") and "1 to 4 windows write each output cell" in alt
               for alt in alts), alts


@pytest.mark.parametrize("query, expected", [
    ({**SMALL, "padding": "1", "padding_mode": "reflect"}, "Dark purple cells hold the sum"),
    ({**SMALL, "padding": "1", "padding_mode": "circular", "show_padding": "1"}, "hold *copies* of input cells"),
    ({**SMALL, "input": "1x5x5", "padding": "same", "kernel": "4"}, "padding (1, 2, 1, 2) is not the same on both"),
    ({**SMALL, "input": "1x7x7", "dilation": "2", "bias": "0"}, "No bias: C·x is the layer's output."),
    ({**SMALL, "input": "1x6x6", "padding": "replicate"}, "Each **row** of C"),  # bad URL value: notice, page still runs
])
def test_padding_modes_same_dilation_and_bias(query, expected):
    at = run_app(PAGE, query)
    _ok(at)
    assert expected in _text(at)
    assert len(at.success) == 2 and not at.error


def test_impossible_layer_shows_the_error_not_a_traceback():
    at = run_app(PAGE, {**SMALL, "input": "1x2x2", "kernel": "5"})
    _ok(at)
    assert at.error and "kernel_size" in at.error[0].value
    assert not at.get("image")
    at = run_app(PAGE, {**SMALL, "input": "1x3x3", "padding": "4", "padding_mode": "reflect"})
    _ok(at)
    assert at.error and "reflect padding" in at.error[0].value


def test_whole_c_too_small_to_read_in_the_product_uses_the_chosen_block():
    at = run_app(PAGE, {"input": "3x7x7", "filters": "16", "kernel": "3", "filter": "5", "channel": "2"})
    _ok(at)
    assert next(t for t in at.toggle if t.label == "Whole C (every block)").value is True
    assert "The whole C (400×147) would be too small to read here, so this is the block filter 5 × channel 2" in \
        _text(at)
    assert len(at.get("image")) == 5 and len(at.success) == 2


def test_1d_causal_link_shows_c_of_the_real_conv1d():
    at = run_app(PAGE, {"input": "2x8", "filters": "2", "kernel": "3", "dilation": "2", "padding": "causal",
                        "cell": "0,5"})
    _ok(at)
    text = _text(at)
    assert "Each **row** of C is one output position (16 rows)" in text and "(16 columns)" in text
    assert "Causal padding puts all 4 zeros on the left" in text and "**The real `nn.Conv1d`** output" in text
    assert "F.conv_transpose1d(y, layer.weight, padding=0" in text and "F.pad(x, (4, 0)).unsqueeze(2)" in text
    assert len(at.get("image")) == 5 and [s.value[:6] for s in at.success] == ["Equal:", "Equal:"]
    assert "in length only 8 gives 8: no ambiguity" in text and "in height" not in text
    cell = _select(at, "Output cell")
    assert cell.value == (0, 5) and len(cell.options) == 8 and cell.options[:2] == ["0", "1"]
    cell.set_value((0, 2)).run()
    _ok(at)
    assert str(at.query_params["cell"]).strip("[]'") == "0,2"


def test_1d_transposed_and_impossible_links():
    at = run_app(PAGE, {"input": "1x3", "filters": "2", "kernel": "3", "stride": "2", "padding": "1",
                        "transposed": "1", "output_padding": "1"})
    _ok(at)
    text = _text(at)
    assert "This layer is a ConvTranspose1d: it is Cᵀ" in text and "`Conv1d(2, 1, kernel_size=3" in text
    assert "F.conv1d(z, layer.weight" in text and "your output_padding picks **6**" in text
    assert len(at.success) == 2 and not at.error
    at = run_app(PAGE, {"input": "1x2", "kernel": "5"})  # the kernel does not fit: the rule, not a traceback
    _ok(at)
    assert at.error and "kernel_size" in at.error[0].value and not at.get("image")
    at = run_app(PAGE, {"input": "1x300", "filters": "4", "kernel": "3"})  # too large: a smaller 1-D input offered
    _ok(at)
    (button,) = at.button
    assert "Use a smaller input: 1×" in button.label and button.label.count("×") == 1
    button.click().run()
    _ok(at)
    assert len(at.get("image")) == 5 and len(at.success) == 2


@pytest.mark.parametrize("query", [{"input": "1x4x5x5", "kernel": "3"},
                                   {"input": "2x3x4x4", "kernel": "1x3x3", "transposed": "1", "cell": "9,9,9"}])
def test_3d_link_gets_a_plain_notice_and_a_way_to_2d_or_1d(query):
    at = run_app(PAGE, query)
    _ok(at)
    assert at.info and "The matrix view draws 1-D and 2-D layers" in at.info[0].value
    assert not at.get("image") and not at.error
    buttons = {b.label: b for b in at.button}
    assert set(buttons) == {"Show it as a 2-D layer", "Show it as a 1-D layer"}
    buttons["Show it as a 2-D layer"].click().run()
    _ok(at)
    transposed = "transposed" in query  # + the overlap map under Cᵀ
    assert len(at.get("image")) == 5 + transposed and len(at.success) == 2
    assert str(at.query_params["input"]).strip("[]'").count("x") == 2
