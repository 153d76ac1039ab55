"""Convolution as a matrix: the sparse matrix C, y = C·x, the transposed convolution as Cᵀ, and im2col."""

import numpy as np
import streamlit as st

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.options import option_keys
from conv_lab.core.params import fmt
from conv_lab.gradients.pictures import overlap_png
from conv_lab.lab.alt_text import layer_words
from conv_lab.matrix.geometry import geometry, window_counts
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
    MATRIX_OPTION,
    MATRIX_OPTIONS,
    MatrixOptions,
    ambiguity,
    dims_notice,
    im2col_story,
    matrix_controls,
    matrix_story,
    padding_story,
    parse_matrix_options,
    shrunk_text,
    smaller_config,
    too_large_text,
    transpose_story,
    why_output_padding,
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
from ui.phone import phone_controls
from ui.present import page_intro
from ui.share import layer_share_query, share_box

require_entry()

config = current_config()
page_intro("Convolution as a matrix",
           "A convolution is a multiplication by one big, mostly-zero matrix C built from the kernel; its transposed "
           "convolution is a multiplication by Cᵀ. Libraries compute it as im2col (unfold) times the filter matrix.")
show_notices()
row = phone_controls()  # a phone: the layer's boxes and the padding flag above the pictures (else: the sidebar)
padded = page_flag("show_padding", MATRIX_OPTION["show_padding"].label, MATRIX_OPTION["show_padding"].help, row)
if notice := dims_notice(config.dims):  # a 3-D layer: C is not drawn; offer its 2-D plane or a 1-D layer
    st.info(notice, icon=":material/view_in_ar:")
    with st.container(horizontal=True):
        for n in (2, 1):
            st.button(f"Show it as a {n}-D layer", on_click=apply_config, args=(config.with_dims(n),), key=f"w_mx_{n}d")
    st.stop()
try:
    spec = config.spec()
    geom = geometry(spec, config.height, config.width)
except ConvConfigError as exc:
    show_config_error(exc)
    st.stop()


def _offer_smaller(message: str) -> None:
    smaller = smaller_config(config, padded)
    if smaller is None:
        st.warning(message + " No smaller input fits: use a smaller kernel, padding or dilation.",
                   icon=":material/straighten:")
        return
    st.warning(message, icon=":material/straighten:")
    st.button(f"Use a smaller input: {fmt((smaller.in_channels, *smaller.input_size))}, "
              f"{smaller.out_channels} filters", on_click=apply_config, args=(smaller,), key="w_mx_smaller",
              type="primary")


shared_config = config  # the sidebar's layer: the share link keeps it, whatever this page draws
if not (geom.buildable and geom.block_fits(padded)):
    # Not an empty page (issue 16): draw the largest layer that keeps the kernel, stride and padding, and say so.
    smaller = smaller_config(config, padded)
    if smaller is None:
        _offer_smaller(too_large_text(geom, padded) + " Even one filter × one channel block is too large to draw.")
        st.stop()
    st.info(shrunk_text(geom, padded, smaller), icon=":material/straighten:")
    st.button("Use this smaller layer in the sidebar", on_click=apply_config, args=(smaller,), key="w_mx_smaller")
    config, spec = smaller, smaller.spec()
    geom = geometry(spec, config.height, config.width)

# Page options: the URL seeds a control on arrival, a link or the back button, and whenever the control is new or
# holds a value this layer no longer has (clamped, with a notice); the controls write the URL. A key whose control
# this layer does not draw (one filter: no filter control) keeps its URL value for when the control returns.
PAGE_KEYS = option_keys(MATRIX_OPTIONS[1:])  # show_padding is the sidebar flag above
controls = matrix_controls(geom, padded)
widgets = {key: f"w_mx_{key}" for key in controls}
in_url = url_options("matrix", PAGE_KEYS, widgets.values())
stale = [key for key, control in controls.items()
         if in_url is not None or st.session_state.get(widgets[key]) not in control.values]
notices = []
if stale:
    source = st.query_params if in_url is None else in_url
    from_url, notices = parse_matrix_options({key: source[key] for key in stale if key in source}, geom)
    for key in stale:
        st.session_state[widgets[key]] = getattr(from_url, key)

d, one, transposed = geom.direct, geom.dims == 1, spec.transposed
row = st.container(horizontal=True)
shown = {key: row.selectbox(control.label, control.values, key=widgets[key], help=control.help,
                            format_func=(lambda c: f"{c[1]}" if one else f"({c[0]}, {c[1]})") if key == "cell" else str)
         for key, control in controls.items() if key != "blocks"}
if "blocks" in controls:
    shown["blocks"] = row.toggle(controls["blocks"].label, key=widgets["blocks"], help=controls["blocks"].help)
chosen = MatrixOptions(padded, **shown)
hidden = {key: st.query_params[key] for key in PAGE_KEYS if key not in controls and key in st.query_params}
write_url_options("matrix", {**chosen.to_query(controls), **hidden})
cell, filt, chan = chosen.cell, chosen.filter, chosen.channel
whole = chosen.blocks if "blocks" in controls else geom.fits(padded)
show_notices(notices)
if not geom.fits(padded):
    _offer_smaller(too_large_text(geom, padded) + f" Showing one block: filter {filt} × channel {chan}.")

choice = MatrixChoice(spec, config.height, config.width, padded, whole, filt, chan, cell)
bundle = choice.bundle  # C, its tap ids, the real run, the Cᵀ check and im2col: computed once per layer, cached
example, check, result = bundle.example, bundle.check, bundle.im2col

st.markdown(matrix_story(geom, padded))
words = layer_words(config)
st.image(window_picture(choice), alt=f"Kernel, padded input and output of {words}, cell {cell} selected",
         caption=f"The kernel of filter {filt} for channel {chan}, coloured as in C. The selected cell's window: "
                 "the same cells the Kernel sweep page highlights at that step. Numbers are column indices of C.")
st.image(matrix_picture(choice), alt=f"The sparse matrix C of {words}: one row per output cell, one column per "
         "input cell, the kernel's weights along each row")
nonzero, entries = bundle.nonzero(padded), bundle.tap_ids(padded).size
st.caption(f"{nonzero:,} of {entries:,} entries are non-zero ({100 * nonzero / entries:.1f} %). Along a row the "
           f"weights repeat shifted by the stride {fmt(geom.sizes(d.stride_hw))}: the diagonal bands.")
if story := padding_story(geom, padded):
    st.info(story)

st.header("y = Cᵀ·x, worked out" if transposed else "y = C·x, worked out")
if block_text := product_text(choice):
    st.markdown(block_text)
st.image(product_picture(choice), alt=f"y = C·x worked out for {words}")
if not block_text:
    st.caption(f"Then + bias b = {', '.join(f'{b:g}' for b in example.bias)} (one per filter) gives the layer's "
               "output." if spec.bias else f"No bias: {'Cᵀ·x' if transposed else 'C·x'} is the layer's output.")
left, right = st.columns(2)
shown_out = fmt(geom.sizes(example.y_module.shape[-2:]))
product = "Cᵀ·x + b" if transposed else "C·x + b"  # the heading's product, not always C·x
left.markdown(f"**{product} reshaped** to {shown_out} (filter {filt if not transposed else 0})")
left.dataframe(example.y_matrix[0 if transposed else filt], hide_index=False)
right.markdown(f"**The real `nn.{spec.module_name}`** output")
right.dataframe(example.y_module[0 if transposed else filt], hide_index=False)
ok = example.max_error < 1e-4
(st.success if ok else st.error)(f"{'Equal' if ok else 'DIFFERENT'}: largest difference {example.max_error:g} "
                                 "(whole-number weights and inputs, so every sum is exact).")

st.header("Transposed: Cᵀ")
st.image(pair_picture(choice), alt=f"C beside its transpose Cᵀ for {words}")
st.markdown(transpose_story(geom, transposed, check.output_padding, check.note))
st.code(check.code, language="python")
ok = check.max_error < 1e-9
(st.success if ok else st.error)(f"{'Equal' if ok else 'DIFFERENT'}: largest difference {check.max_error:g}.")
st.markdown(why_output_padding(geom.dims))
for axis, size in zip(ambiguity(geom), geom.sizes(geom.grid_hw)):
    st.markdown(f"- {axis.text}" + (f" — your output_padding picks **{size}**" if transposed else ""))
if transposed:  # Odena et al. (2016): uneven window counts are the checkerboard artifact
    counts = window_counts(geom)
    st.markdown("**Count the non-zeros in each row of Cᵀ**: that is how many windows write each output cell. Uneven "
                "counts, where the kernel size is not a multiple of the stride, are the checkerboard artifact.")
    st.image(overlap_png(counts, f"{counts.min()}–{counts.max()} windows per output cell"), width=520,
             alt=f"Overlap map of {words}: {counts.min()} to {counts.max()} windows write each output cell")

st.header("im2col: how the library computes it")
st.markdown(im2col_story(transposed))
st.image(im2col_picture(choice), alt=f"im2col for {words}: the patch matrix times the filter matrix")
st.code(result.code, language="python")
cols = st.columns(3)
cols[0].metric("Input", f"{result.input_bytes:,} B")
cols[1].metric("Patch matrix", f"{result.patches_bytes:,} B")
cols[2].metric("Patch matrix ÷ input", f"{result.ratio:.1f}×",
               help="each input cell is copied once for every window that covers it")
if not np.allclose(result.product, example.y_module, atol=1e-4):
    st.error("im2col disagrees with the module — please report this configuration.")

share_box(layer_share_query(shared_config, option_keys(MATRIX_OPTIONS)), "exactly this view")
