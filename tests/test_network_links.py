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
        if query is None:
            assert not (row.kind or "").startswith("Conv") or row.status != "ok"
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
