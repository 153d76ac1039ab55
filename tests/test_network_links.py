"""Planner rows link to the Shape Lab and the sweep with exactly their layer on the input it gets (issue 18)."""

from __future__ import annotations

from hypothesis import given, settings
from network_cases import deep_valid_stack

from conv_lab.core.state import parse_query
from conv_lab.network.links import layer_query
from conv_lab.network.plan import plan

from conftest import n_examples


@settings(max_examples=n_examples(80, 20))
@given(deep_valid_stack())
def test_each_conv_rows_link_opens_its_layer_with_the_planned_shapes(case):
    shape, rows, _ = case
    result = plan(shape, rows)  # no skips: a row's output is its own layer's
    for row in result.rows:
        query = layer_query(row)
        if query is None:  # not a conv layer, not reached, or fed an unbatched tensor (no page holds that input)
            conv = (row.kind or "").startswith("Conv")
            assert not conv or row.status != "ok" or len(row.in_shape) != int(row.kind[-2]) + 2
            continue
        config, notices = parse_query(dict(part.split("=", 1) for part in query.split("&")))
        assert not notices, (query, notices)
        spec = config.spec()
        assert spec.module_name == row.kind
        assert config.input_shape(row.in_shape[0]) == tuple(row.in_shape)
        assert spec.output_shape(config.input_shape(row.in_shape[0])) == tuple(row.out_shape)


def test_a_causal_1d_row_links_with_its_causal_padding():
    result = plan((1, 1, 100), [("Conv1d", "out_channels=4, kernel_size=2, dilation=4, padding='causal'")])
    assert layer_query(result.rows[0]) == "input=1x100&filters=4&kernel=2&stride=1&padding=causal&dilation=4"


def test_the_planner_table_links_each_conv_row_to_the_shape_lab_and_the_sweep():
    from conftest import run_app

    at = run_app("pages/network.py", {"net": "I1x32x32-C6k5-R-M2-C16k5"})
    assert not at.exception
    table = next(frame.value for frame in at.dataframe if "Shape Lab" in frame.value.columns)
    assert table["Shape Lab"].iloc[0] == "/?input=1x32x32&filters=6&kernel=5&stride=1&padding=0"
    assert table["sweep"].iloc[3] == "/sweep?input=6x14x14&filters=16&kernel=5&stride=1&padding=0"
    assert table["Shape Lab"].iloc[1] == ""  # ReLU: no layer to open (an empty cell)
