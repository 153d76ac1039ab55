"""Backward pass: the gradients of the configured layer built by hand beside loss.backward(), and the backward sweep."""

import streamlit as st

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.options import option_keys
from conv_lab.core.params import fmt
from conv_lab.core.torch_run import torch_code
from conv_lab.gradients.check import autograd_check, check_gradient_work, formulas, overlap_counts
from conv_lab.gradients.options import GRADIENT_OPTIONS, filters_reading, parse_gradient_query
from conv_lab.gradients.pictures import overlap_png
from conv_lab.lab.alt_text import layer_words
from conv_lab.sweep.backward import BackwardRequest, backward_values, fold_map, region_cap_text
from conv_lab.sweep.service import sweep_player
from conv_lab.sweep.steps import region_for
from ui import current_config, require_entry, show_config_error, show_notices, url_options, write_url_options
from ui.phone import phone_controls
from ui.present import page_intro
from ui.share import layer_share_query, share_box

require_entry()

config = current_config()
WIDGETS = {"grad": "w_grad_which", "channel": "w_grad_channel", "filter_index": "w_grad_filter"}
url_now = url_options("gradients", option_keys(GRADIENT_OPTIONS), WIDGETS.values())
if url_now is not None:
    chosen, notices = parse_gradient_query(url_now, config)
    for name, key in WIDGETS.items():
        st.session_state[key] = chosen[name]
    st.session_state["_grad_notices"] = notices
for name, key in WIDGETS.items():  # keep every option across runs, clamped to this layer
    st.session_state.setdefault(key, {"grad": "input"}.get(name, 0))
st.session_state["w_grad_channel"] = min(st.session_state["w_grad_channel"], config.in_channels - 1)
readers = filters_reading(config, st.session_state["w_grad_channel"]) if config.in_channels % config.groups == 0 \
    else range(config.out_channels)
if st.session_state["w_grad_filter"] not in readers:
    st.session_state["w_grad_filter"] = readers.start

page_intro("Backward pass",
           "How a conv layer learns: from the loss gradient g = ∂L/∂y of its output, the gradient of its input is a "
           "transposed convolution of g with the same weights, and the gradient of its weights is a correlation of the "
           "input with g. Built here by hand (flips, zero insertion, padding) and checked against loss.backward().")
show_notices()
show_notices(st.session_state.get("_grad_notices", []))
phone = phone_controls() is not None  # a phone: the layer's boxes above the gradients' shapes, code lines wrapped

try:
    spec = config.spec()
    shape = config.input_shape()
    check_gradient_work(spec, shape)
    values = backward_values(config)
    check = autograd_check(spec, values.x, values.weight, values.bias, values.grad_output)
except ConvConfigError as exc:
    show_config_error(exc)
    st.stop()

out_shape = spec.output_shape(shape)
st.subheader("1 · The forward layer and an upstream gradient")
code = torch_code(spec, shape).replace("y = layer(x)\nprint(y.shape)", "x.requires_grad_(True)\ny = layer(x)")
st.code(f"{code}\ng = torch.randint(-2, 3, {tuple(out_shape)})  # seeded: ∂L/∂y from the layers above\n"
        "loss = (y * g).sum()  # so that ∂loss/∂y = g\nloss.backward()", language="python", wrap_lines=phone)
st.caption("Values are seeded small whole numbers (x in 0…9, weights and g in −2…2), so every product can be checked.")

st.subheader("2 · Each gradient, and the shapes torch gives them")
shown = {"grad_input": "x.grad", "grad_weight": "layer.weight.grad", "grad_bias": "layer.bias.grad"}
for key, latex in formulas(spec).items():
    st.latex(latex)
    st.code(f"{shown[key]}.shape  →  {check.shapes[shown[key]]}", language="text", wrap_lines=phone)
if check.agree:
    st.success(f"✓ The explicit computation equals loss.backward() for x.grad, layer.weight.grad and layer.bias.grad "
               f"(largest difference {check.max_difference:.2g}).")
else:
    st.error(f"The explicit computation differs from loss.backward() by up to {check.max_difference:.3g}.")

if not spec.transposed:
    uncovered = [s.uncovered for s in spec.explain(shape).dims]
    notes = [f"The {fmt(tuple(uncovered))} trailing cells no window reads get gradient 0."] if any(uncovered) else []
    if spec.padding_mode != "zeros":
        folds = [f"{axis}: " + ", ".join(f"{p}→{s}" for p, s in fold_map(spec, size, i))
                 for i, (axis, size) in enumerate((("rows", config.height), ("columns", config.width)))
                 if fold_map(spec, size, i)]
        notes.append(f"{spec.padding_mode} padding copied input cells into the padding, so each padding cell's gradient "
                     "is added back to the cell it copied (padded index → input index, per axis): " + "; ".join(folds))
    else:
        notes.append("Zero padding holds no input cell: the gradient of the padding cells is dropped (cropped away).")
    st.info(" ".join(notes), icon=":material/undo:")

st.subheader("3 · The backward sweep")
with st.container(horizontal=True):
    which = st.radio("Build", ["input", "weight"], key="w_grad_which", horizontal=True,
                     format_func={"input": "x.grad (the input gradient)", "weight": "layer.weight.grad"}.get)
    channel = st.number_input("Input channel", 0, max(0, config.in_channels - 1), key="w_grad_channel")
    filter_index = st.selectbox("Filter", list(readers), key="w_grad_filter", disabled=which == "input",
                                help="the weight gradient of this filter's taps on the input channel")
request = BackwardRequest(config, which, filter_index, channel)
try:
    sweep = request.build()
    region = region_for(sweep, 0, 0)
    player = sweep_player(request, region, 0)
except ConvConfigError as exc:
    show_config_error(exc)
else:
    if which == "input" and not spec.transposed:
        st.caption("The flipped kernel (channels swapped inside the group) slides at stride 1 over g, zero-inserted by "
                   "the stride and padded by d·(k−1): each step is one cell of the padded input's gradient. "
                   f"{region_cap_text(sweep)}.")
    elif which == "input":
        st.caption(f"A transposed layer's input gradient is the direct convolution of g with the same weights. "
                   f"{region_cap_text(sweep)}.")
    else:
        st.caption(f"g, its cells a stride apart, slides under the padded input: one step per kernel tap. "
                   f"{region_cap_text(sweep)}.")
    if len(player) - 1 < len(sweep):
        st.caption(f"Animating the first {len(player) - 1} of {len(sweep)} steps (the frame budget).")
    st.iframe(player.player_html(0))
    st.download_button("⬇️ Download GIF (for slides)", data=lambda: player.gif_bytes, file_name="conv-lab-backward.gif",
                       mime="image/gif", key="w_grad_gif")

st.subheader("4 · As a matrix")
query = layer_share_query(config)
st.markdown(f"The layer is y = C·x for one sparse matrix C, so x.grad = **Cᵀ · g**: the same matrix the transposed "
            f"convolution multiplies by. [See C and Cᵀ for this layer on the matrix page](matrix?{query}).")
if spec.transposed:
    counts = overlap_counts(spec, config.input_size)
    st.subheader("5 · Overlap map (the checkerboard)")
    st.caption("How many (input cell, tap) pairs write each output cell of this transposed layer. Uneven counts, where "
               "the kernel size is not a multiple of the stride, are the checkerboard artifacts of Odena et al. (2016).")
    st.image(overlap_png(counts, f"{counts.min()}–{counts.max()} windows per cell"),
             alt=f"Overlap map of {layer_words(config)}: {counts.min()} to {counts.max()} windows write each output cell")

write_url_options("gradients", {k: str(v) for k, v in
                                (("grad", which), ("channel", channel), ("filter", filter_index)) if v not in ("input", 0)})
share_box(layer_share_query(config, option_keys(GRADIENT_OPTIONS)), "this layer's backward pass, as shown")
