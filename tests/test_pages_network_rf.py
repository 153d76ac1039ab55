"""AppTest: the planner's receptive-field section — the rf= link and its controls, hostile values, the rows and the
measured picture (its alt text names the cell)."""

from __future__ import annotations

import pytest

from conftest import run_app

PAGE = "pages/network.py"
DILATED = "I1x32x32-C8k3d2-R-C8k3d2"


def _images(at) -> list[str]:
    """The alt texts of the page's images."""
    found = []

    def walk(node):
        for child in getattr(node, "children", {}).values():
            if getattr(child, "type", "") == "image":
                found.extend(img.alt for img in child.proto.imgs)
            walk(child)

    walk(at.main)
    return found


def _rows(at):
    return next(d for d in at.dataframe if d.value.index.name == "point").value


def _cell(at) -> tuple:
    return tuple(at.number_input(key=f"w_net_rf_{axis}").value for axis in range(3)
                 if f"w_net_rf_{axis}" in [w.key for w in at.number_input])


def test_the_default_cell_is_the_centre_of_the_last_map_and_stays_out_of_the_url():
    at = run_app(PAGE)  # LeNet: the last map is point 6 (16×5×5), before Flatten
    assert not at.exception
    assert at.selectbox(key="w_net_rf_point").value == 6 and _cell(at) == (2, 2)
    assert "rf" not in at.query_params
    rows = _rows(at)
    assert list(rows.index) == ["6", "5", "4", "3", "2", "1", "0"]
    assert rows.loc["0", "size"] == "16×16" and rows.loc["0", "jump"] == "4×4" and rows.loc["0", "first cell"] == "8, 8"
    assert any(alt.startswith("Receptive field of cell (2, 2) of layer 6 (AvgPool2d) over the 32×32 input") for alt in
               _images(at))


def test_a_deep_link_picks_the_cell_and_the_controls_write_it_back():
    at = run_app(PAGE, query={"net": DILATED, "rf": "3,4"})
    assert not at.exception and not at.warning
    assert at.selectbox(key="w_net_rf_point").value == 3 and _cell(at) == (3, 4)
    assert at.query_params["rf"] == "3,4"
    rows = _rows(at)
    assert rows.loc["0", "first cell"] == "3, 4" and rows.loc["0", "size"] == "9×9" and rows.loc["2", "size"] == "5×5"
    alt = next(a for a in _images(at) if "cell (3, 4)" in a)
    assert "holds 81 cells, the gradient reaches 25 of them (56 holes)" in alt  # dilation 2, twice: gridding holes
    assert any("gridding holes" in c.value for c in at.caption)
    at.number_input(key="w_net_rf_1").set_value(7).run()
    assert at.query_params["rf"] == "3,7" and _rows(at).loc["0", "first cell"] == "3, 7"
    at.selectbox(key="w_net_rf_point").set_value(1).run()  # another layer: its centre cell, and @1 in the link
    assert _cell(at) == (14, 14) and at.query_params["rf"] == "14,14@1"
    again = run_app(PAGE, query={"net": DILATED, "rf": at.query_params["rf"]})  # the link reopens the same cell
    assert again.selectbox(key="w_net_rf_point").value == 1 and _cell(again) == (14, 14)


@pytest.mark.parametrize("value, words", [
    ("1", "has 1 indices"), ("1,2,3", "has 3 indices"), ("a,b", "is not a cell"), ("<b>x</b>", "is not a cell"),
    ("99,-4", "index 99 is outside 0..23"), ("1,2@x", "is not a layer number"), ("1,2@40", "point 40 is not a map"),
    ("1" * 50, "characters long"), ("3,4@0", "point 0 is not a map"),
])
def test_hostile_rf_values_fall_back_with_a_notice(value, words):
    at = run_app(PAGE, query={"net": DILATED, "rf": value})
    assert not at.exception
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]
    point, cell = at.selectbox(key="w_net_rf_point").value, _cell(at)
    size = {1: 28, 2: 28, 3: 24}[point]
    assert point in (1, 2, 3) and all(0 <= c < size for c in cell)
    assert _images(at)


def test_1d_and_3d_links_take_one_and_three_indices():
    wavenet = "I1x16000-1C32k2pC-1C32k2pC-R-1C32k2pCd2-R-1C32k2pCd4-R-1C32k2pCd8-R-1C256k1"
    at = run_app(PAGE, query={"net": wavenet, "skip": "a1.3-a3.5-a5.7-a7.9", "rf": "120"})
    assert not at.exception and _cell(at) == (120,)
    assert _rows(at).loc["0", "first cell"] == "104" and _rows(at).loc["0", "size"] == "17"  # causal: 17 past samples
    assert any("cell (120) of layer 10 (Conv1d)" in a and "reaches 17 of them (0 holes)" in a for a in _images(at))
    clip = "I1x8x16x16-3C4k3p1-R-3M2"
    at = run_app(PAGE, query={"net": clip, "rf": "1,2,3@3"})
    assert not at.exception and at.selectbox(key="w_net_rf_point").value == 3 and _cell(at) == (1, 2, 3)
    assert _rows(at).loc["0", "first cell"] == "1, 3, 5" and _rows(at).loc["0", "size"] == "4×4×4"
    assert any("Depth slice 2 of 8" in c.value for c in at.caption)
    at = run_app(PAGE, query={"net": clip, "rf": "1,2"})
    assert any("has 2 indices" in w.value for w in at.warning)


def test_padding_shows_as_a_negative_start_and_nothing_reached_is_said():
    at = run_app(PAGE, query={"net": "I1x24x24-C8k5p2-R-C8k3s2p3-R", "rf": "0,5"})
    rows = _rows(at)
    assert rows.loc["0", "first cell"] == "-5, 5" and "reaches into the padding (5 rows)" == rows.loc["0", "note"]
    assert any("reaches no input cell" in c.value for c in at.caption)


def test_over_the_cap_a_plain_message_replaces_the_picture_and_no_map_no_section():
    unet = ("I1x572x572-C16k3-R-C16k3-R-M2-C32k3-R-C32k3-R-M2-C64k3-R-C64k3-R-T32k2s2-C32k3-R-C32k3-R-T16k2s2-C16k3-R-"
            "C16k3-R-C2k1")
    at = run_app(PAGE, query={"net": unet, "skip": "c9.15x-c4.20x"})
    assert not at.exception and not _images(at)
    assert any("above Conv Lab's cap" in i.value and "pick layer 19 or an earlier one" in i.value for i in at.info)
    assert "ConvTranspose2d + cat point 9" in list(_rows(at)["layer"])  # the merge is named on its point's row
    at = run_app(PAGE, query={"net": "I1x8x8-F-L3"})
    assert not at.exception and any("No layer here gives a map" in i.value for i in at.info)


def test_a_new_preset_forgets_the_cell():
    at = run_app(PAGE, query={"net": DILATED, "rf": "3,4@1"})
    at.selectbox(key="w_net_preset").set_value("VGG block (3×224×224)").run()
    assert not at.exception and at.selectbox(key="w_net_rf_point").value == 5 and _cell(at) == (56, 56)
    assert "rf" not in at.query_params
