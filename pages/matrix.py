"""Convolution as a matrix: the sparse matrix C, y = C·x, the transposed convolution as Cᵀ, and im2col."""

import numpy as np
import streamlit as st

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.options import option_keys
from conv_lab.core.params import fmt
from conv_lab.core.state import share_query_string
from conv_lab.matrix.geometry import geometry
from conv_lab.matrix.pictures import (
    MatrixChoice,
    im2col_picture,
    matrix_picture,
    pair_picture,
    product_picture,
    product_text,
    window_picture,
)
from conv_lab.matrix.text import (
    MATRIX_OPTIONS,
    ambiguity,
    matrix_story,
    padding_story,
    parse_cell,
    parse_index,
    smaller_config,
    too_large_text,
)
from ui import (
    apply_config,
    current_config,
    page_flag,
    require_entry,
    show_config_error,
    show_notices,
    url_options,
    write_url_options,
)

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
        st.warning(message + " No smaller input fits: use a smaller kernel, padding or dilation.", icon=":material/straighten:")
        return
    st.warning(message, icon=":material/straighten:")
    st.button(f"Use a smaller input: {smaller.in_channels}×{smaller.height}×{smaller.width}, "
              f"{smaller.out_channels} filters", on_click=apply_config, args=(smaller,), key="w_mx_smaller",
              type="primary")


if not (geom.buildable and geom.block_fits(padded)):
    _offer_smaller(too_large_text(geom, padded) + " Even one filter × one channel block is too large to draw.")
    st.stop()

notices = []


def _url_choice(key, label, options, parse, to_raw, container, help_text, format_func=str):
    """A selectbox mirrored in the URL as `key=…` (read on load, clamped with a notice)."""
    widget = f"w_mx_{key}"
    if url_options(f"matrix_{key}", [key], [widget]) is not None or st.session_state[widget] not in options:
        value, notice = parse(st.query_params.get(key))
        st.session_state[widget] = value
        notices.extend([notice] if notice else [])
    value = container.selectbox(label, options, key=widget, format_func=format_func, help=help_text)
    raw = to_raw(value)
    write_url_options(f"matrix_{key}", {} if raw is None else {key: raw})
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
    if (url := url_options("matrix_blocks", ["blocks"], ["w_mx_blocks"])) is not None:
        st.session_state["w_mx_blocks"] = url.get("blocks") != "0"
    whole = controls.toggle("Whole C (every block)", key="w_mx_blocks", help="Off: only the selected filter × channel block")
    write_url_options("matrix_blocks", {} if whole else {"blocks": "0"})
show_notices(notices)
if not geom.fits(padded):
    _offer_smaller(too_large_text(geom, padded) + f" Showing one block: filter {filt} × channel {chan}.")

choice = MatrixChoice(spec, config.height, config.width, padded, whole, filt, chan, cell)
bundle = choice.bundle  # C, its tap ids, the real run, the Cᵀ check and im2col: computed once per layer, cached
example, check, result = bundle.example, bundle.check, bundle.im2col

st.markdown(matrix_story(geom, padded))
st.image(window_picture(choice),
         caption=f"The kernel of filter {filt} for channel {chan}, coloured as in C. The selected cell's window: "
                 "the same cells the Kernel sweep page highlights at that step. Numbers are column indices of C.")
st.image(matrix_picture(choice))
nonzero, entries = bundle.nonzero(padded), bundle.tap_ids(padded).size
st.caption(f"{nonzero:,} of {entries:,} entries are non-zero ({100 * nonzero / entries:.1f} %). Along a row the "
           f"weights repeat shifted by the stride {fmt(d.stride_hw)}: the diagonal bands.")
if story := padding_story(geom, padded):
    st.info(story)

st.header("y = Cᵀ·x, worked out" if transposed else "y = C·x, worked out")
if block_text := product_text(choice):
    st.markdown(block_text)
st.image(product_picture(choice))
if not block_text:
    st.caption(f"Then + bias b = {', '.join(f'{b:g}' for b in example.bias)} (one per filter) gives the layer's "
               "output." if spec.bias else "No bias: C·x is the layer's output.")
left, right = st.columns(2)
left.markdown(f"**C·x + b reshaped** to {fmt(example.y_module.shape[-2:])} (filter {filt if not transposed else 0})")
left.dataframe(example.y_matrix[0 if transposed else filt], hide_index=False)
right.markdown(f"**The real `nn.{spec.module_name}`** output")
right.dataframe(example.y_module[0 if transposed else filt], hide_index=False)
ok = example.max_error < 1e-4
(st.success if ok else st.error)(f"{'Equal' if ok else 'DIFFERENT'}: largest difference {example.max_error:g} "
                                 "(whole-number weights and inputs, so every sum is exact).")

st.header("Transposed: Cᵀ")
st.image(pair_picture(choice))
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
if transposed:
    st.markdown("A transposed layer is computed the other way round (col2im): each input cell's channel values are "
                "multiplied by the filter matrix (transposed) into columns, and `fold` adds every column into its "
                "window of the output. The columns' rows are tinted with the weight they were multiplied by.")
else:
    st.markdown("`unfold` copies every window into one column (the patch matrix); one matrix product with the "
                "filter matrix (one row per filter) gives every output cell at once. Each row of the patch matrix "
                "is tinted with the colour of the weight it meets: the same colour as its column of the filter matrix.")
st.image(im2col_picture(choice))
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
st.code(f"{base}?{share_query_string(config, **{k: st.query_params.get(k) for k in option_keys(MATRIX_OPTIONS)})}",
        language="text")
