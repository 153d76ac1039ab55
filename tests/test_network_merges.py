"""The planner's skip merges are their own rows (issue 16, item 9): a layer's row shows its own output, the merge row
the concatenated or added tensor; both checked against real torch modules."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from conv_lab.network.flow import Skip
from conv_lab.network.plan import plan
from conv_lab.network.presets import PRESETS
from conv_lab.network.torch_run import run_plan
from conv_lab.network.view import FLOW_COLUMNS, compact, flow_table, long_messages


def test_unet_transposed_row_shows_its_own_32_channels():
    unet = next(p for p in PRESETS if "U-Net" in p.name)
    result = plan(unet.input_shape, unet.rows, unet.skips)
    rows = {r["#"]: r for r in flow_table(result, run_plan(result))}
    assert rows["15"]["layer"] == "ConvTranspose2d" and "out_channels=32" in rows["15"]["arguments"]
    assert rows["15"]["output (formula)"] == rows["15"]["output (torch)"] == "(1, 32, 272, 272)"
    assert rows["15 +"]["layer"] == "concat (skip)"
    assert rows["15 +"]["output (formula)"] == rows["15 +"]["output (torch)"] == "(1, 64, 272, 272)"
    assert rows["15 +"]["agree"] == rows["15"]["agree"] == "✓"
    assert rows["16"]["input"] == "(1, 64, 272, 272)"  # the next layer reads the merged tensor
    assert list(rows).index("15 +") == list(rows).index("15") + 1


@given(c_in=st.integers(1, 6), c_out=st.integers(1, 6), k=st.integers(1, 3), size=st.integers(3, 9),
       mode=st.sampled_from(["cat", "add"]))
def test_merge_rows_match_torch(c_in, c_out, k, size, mode):
    """A conv with 'same' padding, then its input merged back: the layer's own row and the merge row equal torch."""
    rows = [("Conv2d", f"out_channels={c_out}, kernel_size={k}, padding='same'")]
    result = plan((1, c_in, size, size), rows, [Skip(mode, 0, 1)])
    table = flow_table(result, run_plan(result))
    x = torch.zeros(1, c_in, size, size)
    own = torch.nn.Conv2d(c_in, c_out, k, padding="same")(x)
    try:
        merged = torch.cat([x, own], dim=1) if mode == "cat" else own + x  # an add broadcasts a 1-channel skip
    except RuntimeError:
        assert table[0]["status"] == "broken" and len(table) == 1  # no merge row for a skip that does not fit
        return
    assert table[0]["output (formula)"] == table[0]["output (torch)"] == str(tuple(own.shape))
    assert table[1]["#"] == "1 +" and table[1]["output (formula)"] == table[1]["output (torch)"] == str(tuple(merged.shape))


def test_columns_and_compact_counts():
    assert FLOW_COLUMNS[:2] == ("module", "layer") and "status" not in FLOW_COLUMNS  # status is in the message's words
    assert compact(1_343_692_800) == "1.34 G" and compact(999) == "999"
    result = plan((1, 1, 8, 8), [("Conv2d", "out_channels=2, kernel_size=30")])
    table = flow_table(result)
    assert table[0]["message"].startswith("✗ breaks — ")


def test_long_messages_are_listed_in_full():
    import pandas as pd

    result = plan((1, 1, 8, 8), [("Conv2d", "out_channels=2, kernel_size=30"), ("ReLU", "")])
    frame = pd.DataFrame(flow_table(result)).set_index("#")
    listed = long_messages(frame)
    assert listed and listed[0][0] == "layer 1 (Conv2d)" and "kernel" in listed[0][1]
    assert frame.loc["2", "message"].startswith("not reached")  # grey rows say so in words too
