"""Convolution as a matrix: the sparse matrix C, y = C·x, the transposed convolution as Cᵀ, and im2col."""

import numpy as np
import streamlit as st

from conv_lab.matrix import geometry, is_padding_column, tap_ids
from conv_lab.matrix_figures import Panel, grid_labels, matrix_png, pair_png, product_png, window_png
from conv_lab.matrix_run import im2col, matrix_example, transpose_check
from conv_lab.matrix_view import (ambiguity, block, kernel_for, matrix_story, padding_story, parse_cell, parse_index,
                                  smaller_config, too_large_text)
from conv_lab.spec import ConvConfigError, fmt
from conv_lab.state import share_query_string
from pages.common import apply_config, current_config, page_flag, require_entry, show_config_error, show_notices

require_entry()

padded = page_flag("show_padding", "Padding cells as columns", "Add the padding cells to C as greyed columns")
config = current_config()
st.title("Convolution as a matrix")
st.caption("A convolution is a multiplication by one big, mostly-zero matrix C built from the kernel; its transposed "
           "convolution is a multiplication by Cᵀ. Libraries compute it as im2col (unfold) times the filter matrix.")
show_notices()
try:
    spec = config.spec()
    geom = geometry(spec, config.height, config.width)
except ConvConfigError as exc:
    show_config_error(exc)
    st.stop()


def _offer_smaller(message: str) -> None:
    smaller = smaller_config(config, padded)
    if smaller is None:
        st.warning(message + " No smaller input fits: use a smaller kernel, padding or dilation.", icon="📏")
        return
    st.warning(message, icon="📏")
    st.button(f"Use a smaller input: {smaller.in_channels}×{smaller.height}×{smaller.width}, "
              f"{smaller.out_channels} filters", on_click=apply_config, args=(smaller,), key="w_mx_smaller",
              type="primary")


if not (geom.buildable and geom.block_fits(padded)):
    _offer_smaller(too_large_text(geom, padded) + " Even one filter × one channel block is too large to draw.")
    st.stop()

notices = []


def _url_choice(key, label, options, parse, to_raw, container, help_text, format_func=str):
    """A selectbox mirrored in the URL as `key=…` (read on load, clamped with a notice)."""
    widget, written = f"w_mx_{key}", f"_mx_written_{key}"
    url_value = st.query_params.get(key)
    if (widget not in st.session_state or st.session_state.get(written, "unset") != url_value
            or st.session_state[widget] not in options):
        value, notice = parse(url_value)
        st.session_state[widget] = value
        notices.extend([notice] if notice else [])
    value = container.selectbox(label, options, key=widget, format_func=format_func, help=help_text)
    raw = to_raw(value)
    if raw is None and key in st.query_params:
        del st.query_params[key]
    elif raw is not None and st.query_params.get(key) != raw:
        st.query_params[key] = raw
    st.session_state[written] = raw
    return value


d = geom.direct
(ho, wo), transposed = geom.out_hw, spec.transposed
cells = [(i, j) for i in range(ho) for j in range(wo)]
controls = st.container(horizontal=True)
cell_label = "Input cell of the layer (a column of Cᵀ)" if transposed else "Output cell (a row of C)"
cell = _url_choice("cell", cell_label, cells, lambda raw: parse_cell(raw, (ho, wo)),
                   lambda c: None if c == (0, 0) else f"{c[0]},{c[1]}", controls,
                   "Highlights its row of C and its window on the padded grid", lambda c: f"({c[0]}, {c[1]})")
index_text = (lambda v: None if v == 0 else str(v))
filt = _url_choice("filter", "Filter" + (" (layer input channel)" if transposed else ""), list(range(d.out_channels)),
                   lambda raw: parse_index("filter", raw, d.out_channels), index_text, controls,
                   "Which filter's block of C, and whose row is highlighted") if d.out_channels > 1 else 0
chan = _url_choice("channel", "Input channel" + (" (layer output channel)" if transposed else ""),
                   list(range(d.in_channels)), lambda raw: parse_index("channel", raw, d.in_channels), index_text,
                   controls, "Which channel's block of C and of the padded grid") if d.in_channels > 1 else 0
whole = geom.fits(padded)
if whole and (d.in_channels > 1 or d.out_channels > 1):
    whole = controls.toggle("Whole C (every block)", value=st.query_params.get("blocks") != "0", key="w_mx_blocks",
                            help="Off: only the selected filter × channel block")
    if whole:
        st.query_params.pop("blocks", None)
    else:
        st.query_params["blocks"] = "0"
for notice in notices:
    st.warning(f"Link setting not used — {notice}", icon="⚠️")
if not geom.fits(padded):
    _offer_smaller(too_large_text(geom, padded) + f" Showing one block: filter {filt} × channel {chan}.")

example = matrix_example(spec, config.height, config.width)
taps, values = tap_ids(geom, padded), (example.padded_matrix if padded else example.matrix)
grey = is_padding_column(geom) if padded else None
n_taps = d.kernel_hw[0] * d.kernel_hw[1]
hw = geom.padded_hw if padded else geom.grid_hw
row = cell[0] * wo + cell[1]
if whole:
    shown_taps, shown_values, row_sel = taps, values, filt * ho * wo + row
    row_labels = grid_labels((ho, wo), d.out_channels, "f")
    col_labels = grid_labels(hw, d.in_channels)
    blocks = (ho * wo, hw[0] * hw[1])
else:
    shown_taps, shown_values = block(taps, geom, filt, chan, padded), block(values, geom, filt, chan, padded)
    grey, row_sel, blocks = (None if grey is None else block(grey[None], geom, 0, chan, padded)[0]), row, (0, 0)
    row_labels, col_labels = grid_labels((ho, wo)), grid_labels(hw)

st.markdown(matrix_story(geom))
st.image(window_png(geom, cell, kernel_for(geom, example.weight, filt, chan), padded=padded, channel=chan if whole else 0,
                    grid_title="padded layer output" if transposed else "padded input",
                    out_title="layer input" if transposed else "output"),
         caption=f"The kernel of filter {filt} for channel {chan}, coloured as in C. The selected cell's window: "
                 "the same cells the Kernel sweep page highlights at that step. Numbers are column indices of C.")
name = "C (the layer is Cᵀ)" if transposed else "C"
st.image(matrix_png(shown_taps, shown_values, n_taps, title=f"{name}: {shown_taps.shape[0]}×{shown_taps.shape[1]}"
                    + ("" if whole else f" — block filter {filt} × channel {chan}"), row_labels=row_labels,
                    col_labels=col_labels, grey_cols=grey, rows=[row_sel], row_blocks=blocks[0], col_blocks=blocks[1],
                    row_axis="layer input cell" if transposed else "output cell",
                    col_axis=("padded " if padded else "") + ("layer output cell" if transposed else "input cell")))
nonzero = int((taps != -1).sum())
st.caption(f"{nonzero:,} of {taps.size:,} entries are non-zero ({100 * nonzero / taps.size:.1f} %). Along a row the "
           f"weights repeat shifted by the stride {fmt(d.stride_hw)}: the diagonal bands.")
if story := padding_story(geom, padded):
    st.info(story)

st.header("y = Cᵀ·x, worked out" if transposed else "y = C·x, worked out")
flat_y = (example.y_matrix - example.bias[:, None, None]).reshape(-1, 1)
in_row = filt * ho * wo + row
if transposed:  # the selected layer-input cell is a column of Cᵀ: it spreads over one window of the output
    pieces = [Panel("Cᵀ", example.matrix.T, tap_ids(geom).T, cols=(in_row,)),
              Panel("x", example.x.reshape(-1, 1), rows=(in_row,)),
              Panel("Cᵀ·x", flat_y, rows=tuple(np.nonzero(example.matrix[in_row])[0]))]
else:
    pieces = [Panel("C", example.matrix, tap_ids(geom), rows=(in_row,)),
              Panel("x", example.x.reshape(-1, 1), rows=tuple(np.nonzero(example.matrix[in_row])[0])),
              Panel("C·x", flat_y, rows=(in_row,))]
st.image(product_png(pieces, n_taps))
st.caption(f"Then + bias b = {', '.join(f'{b:g}' for b in example.bias)} (one per filter) gives the layer's output."
           if spec.bias else "No bias: C·x is the layer's output.")
left, right = st.columns(2)
left.markdown(f"**C·x + b reshaped** to {fmt(example.y_module.shape[-2:])} (filter {filt if not transposed else 0})")
left.dataframe(example.y_matrix[0 if transposed else filt], hide_index=False)
right.markdown(f"**The real `nn.{spec.module_name}`** output")
right.dataframe(example.y_module[0 if transposed else filt], hide_index=False)
ok = example.max_error < 1e-4
(st.success if ok else st.error)(f"{'Equal' if ok else 'DIFFERENT'}: largest difference {example.max_error:g} "
                                 "(whole-number weights and inputs, so every sum is exact).")

st.header("Transposed: Cᵀ")
st.image(pair_png(shown_taps, shown_values, n_taps, row_blocks=blocks[0], col_blocks=blocks[1], rows=[row_sel]))
check = transpose_check(example)
if transposed:
    st.markdown(f"Your layer multiplies by **Cᵀ** (right). Going the other way, **C** takes a tensor shaped like "
                f"the layer's output ({fmt(geom.grid_hw)}) back to its input's shape ({fmt(geom.out_hw)}): that is "
                "`conv2d` with the same weight tensor." + (f" ({check.note}.)" if check.note else ""))
else:
    st.markdown(f"A row of C is a column of Cᵀ. Cᵀ takes a tensor shaped like the output ({fmt((ho, wo))}) back to "
                f"the input's shape ({fmt(geom.grid_hw)}): that is exactly `conv_transpose2d` with the same kernel, "
                f"stride and padding, and output_padding={fmt(check.output_padding)}."
                + (f" ({check.note}.)" if check.note else ""))
st.code(check.code, language="python")
ok = check.max_error < 1e-9
(st.success if ok else st.error)(f"{'Equal' if ok else 'DIFFERENT'}: largest difference {check.max_error:g}.")
st.markdown("**Why output_padding exists.** The stride's floor maps several input sizes onto one output size, so "
            "going back is ambiguous. For example, kernel 3, stride 2, padding 1 takes **both 5×5 and 6×6 to 3×3**; "
            "`conv_transpose2d` returns 5×5 with output_padding=0 and 6×6 with output_padding=1. For this layer:")
for axis, size in zip(ambiguity(geom), geom.grid_hw):
    st.markdown(f"- {axis.text}" + (f" — your output_padding picks **{size}**" if transposed else ""))

st.header("im2col: how the library computes it")
result = im2col(example)
filter_taps = np.where(result.filters != 0, np.arange(result.filters.shape[1]) % n_taps, -1)
if transposed:
    st.markdown("A transposed layer is computed the other way round (col2im): each input cell's channel values are "
                "multiplied by the filter matrix (transposed) into columns, and `fold` adds every column into its "
                "window of the output.")
    pieces = [Panel("filtersᵀ", result.filters.T, filter_taps.T),
              Panel("x (a column per cell)", example.x.reshape(d.out_channels, -1), cols=(row,)),
              Panel("columns, then fold", result.patches, cols=(row,) if result.patches.shape[1] == ho * wo else ())]
else:
    st.markdown("`unfold` copies every window into one column (the patch matrix); one matrix product with the "
                "filter matrix (one row per filter) gives every output cell at once.")
    pieces = [Panel("filter matrix", result.filters, filter_taps, rows=(filt,)),
              Panel("patches (unfold)", result.patches, cols=(row,)),
              Panel("output (a row per filter)", result.product.reshape(d.out_channels, -1), cols=(row,))]
st.image(product_png(pieces, n_taps))
st.code(result.code, language="python")
cols = st.columns(3)
cols[0].metric("Input", f"{result.input_bytes:,} B")
cols[1].metric("Patch matrix", f"{result.patches_bytes:,} B")
cols[2].metric("Patch matrix ÷ input", f"{result.ratio:.1f}×",
               help="each input cell is copied once for every window that covers it")
if not np.allclose(result.product, example.y_module, atol=1e-4):
    st.error("im2col disagrees with the module — please report this configuration.")

base = (st.context.url or "").split("?")[0]
st.markdown("**Share this view**:")
st.code(f"{base}?{share_query_string(config, **{k: st.query_params.get(k) for k in ('cell', 'filter', 'channel', 'show_padding', 'blocks')})}",
        language="text")
