"""Shape Lab: the formula worked out with your numbers beside the real PyTorch layer's torch.Size."""

from __future__ import annotations

from contextlib import nullcontext

import streamlit as st

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import AXES, fmt
from conv_lab.core.shapes import formula_steps
from conv_lab.core.torch_run import RunReport, run_report, torch_code
from conv_lab.lab.alt_text import layer_words
from conv_lab.lab.formula_groups import merged_latex, stacked_latex
from conv_lab.lab.grid_picture import layer_grid_png, overhang_png
from conv_lab.lab.numbers import count_text, memory_text
from conv_lab.lab.pictures import start_layer_pictures
from conv_lab.lab.presets import PRESET_BY_NAME, PRESETS
from conv_lab.practice.slips import check_prediction
from conv_lab.render.data_uri import png_data_uri
from conv_lab.render.html_rows import Figure, Metric
from conv_lab.render.markdown_blocks import Code, formula_markdown
from ui import apply_config, current_config, page_flag, require_entry, show_config_error, show_notices
from ui.phone import on_phone, phone_controls
from ui.present import presenting
from ui.rows import markdown_columns, metric_and_figure_rows
from ui.share import layer_share_query, share_box

require_entry()

present = presenting()  # app.py draws the projector toggle on every page
phone = on_phone() and not present  # a phone: number boxes above the result, the sidebar left closed
config = current_config()
NO_PRESET = "—"

# Headings are markdown: an st.title/st.subheader costs the browser ~5× more to redraw on every slider press (issue 16).
INTRO = ("What shape comes out of this convolution, and why? Move the sliders on the left: the formula with your "
         "numbers, and the real PyTorch layer giving the same `torch.Size`.")
if not present:  # projector: the page's name is in the tab; the first screen is for the answer
    st.markdown("# Conv Lab — Shape Lab" + ("" if phone else f"\n\n:small[{INTRO}]"))


def _apply_preset() -> None:
    name = st.session_state.get("w_preset")
    if name in PRESET_BY_NAME:
        apply_config(PRESET_BY_NAME[name].config)


chosen = PRESET_BY_NAME.get(st.session_state.get("w_preset"))
if chosen and chosen.config != config:  # the sliders moved on: the box no longer names what is shown
    st.session_state["w_preset"], chosen = NO_PRESET, None
# Projector: the answer and the formula on the left; the preset, the code and the padded grid on the right.
answer_col, side_col = st.columns([3, 2], gap="medium") if present else (st, st)
side_col.selectbox("Preset", [NO_PRESET] + [p.name for p in PRESETS], key="w_preset", on_change=_apply_preset,
             help="Classic layers, each named for what it teaches", width=420)
# A fixed slot (empty or not) keeps every later element at the same position from run to run, so the
# browser never shows the previous run's elements shifted while a rerun streams in.
with st.container():
    if chosen and not present:
        st.caption(f"**{chosen.name}** — {chosen.teaches}")
    show_notices()
row = phone_controls()  # on a phone only: the boxes, and the predict-first toggle with them (else in the sidebar)
predict = page_flag("predict", "Predict first", "Hide the answer until you type your guess", row)


def _impossible() -> None:
    """Keep the teaching moment of an impossible layer: the formula coming out ≤ 0, the kernel sticking out."""
    try:
        spec = config.spec()
        steps = formula_steps(spec, shape)
    except ConvConfigError:
        return
    if all(step.size_out >= 1 for step in steps):
        return
    left, right = st.columns([1, 1], gap="large")
    with left:
        st.markdown("### Formula")
        for step in steps:
            st.latex(step.latex)
    if not spec.transposed:
        png, caption = overhang_png(spec, config.input_size)
        right.image(png_data_uri(png), caption=caption,
                    alt=f"The kernel sticking out of the padded grid: {layer_words(config)}")


shape = config.input_shape()
try:
    spec = config.spec()
    explanation = spec.explain(shape)
except ConvConfigError as exc:
    show_config_error(exc)
    _impossible()
    share_box(layer_share_query(config))
    st.stop()

# The pictures are drawn in their own worker while this page runs PyTorch and writes the formula, and taken at the
# end. Predict-first hides them until the guess is checked: then they start there.
pictures_of_layer = (spec, config.input_size, explanation.output_shape[2:])
layer_pictures = start_layer_pictures(*pictures_of_layer) if not (present or predict) else None
revealed = True
if predict:
    with st.form("predict_form"):
        st.markdown("**Predict first:** what shape comes out of this layer?")
        st.code(torch_code(spec, shape).rsplit("\n", 1)[0], language="python", wrap_lines=True)
        labels = ["C_out", *(f"{sym}_out" for _, sym, _ in AXES[spec.dims])]
        cols = st.columns(len(labels))
        guess = tuple(col.number_input(label, min_value=0, max_value=1_000_000, step=1, value=None, placeholder="?",
                                       key=f"w_guess_{label}") for col, label in zip(cols, labels))
        checked = st.form_submit_button("Check my answer", type="primary")
    if checked and None in guess:
        st.warning(f"Type all {len(labels)} numbers — {', '.join(labels)} — then check.", icon=":material/edit:")
    elif checked:
        st.session_state["checked_for"] = (config, guess)
    revealed = st.session_state.get("checked_for", (None,))[0] == config
    if revealed:
        verdict = check_prediction(spec, shape, st.session_state["checked_for"][1])
        if verdict.correct:
            st.success("\n\n".join(verdict.messages), icon=":material/celebration:")
        else:
            st.error("\n\n".join(verdict.messages), icon=":material/school:")
    else:
        st.info("The answer is hidden until you check your guess.", icon=":material/visibility_off:")


def _run() -> RunReport | None:
    """The real PyTorch layer's run; None, with the code that could not run and why, when it could not."""
    try:
        return run_report(spec, shape)
    except ConvConfigError as exc:
        st.code(torch_code(spec, shape), language="python", wrap_lines=True)
        show_config_error(exc)
        return None


def _torch_parts(report: RunReport) -> tuple[str, str]:
    """The torch.Size the layer gave, and the mark saying whether the formula agrees."""
    return (f"torch.Size({list(report.torch_shape)})",
            ":green[:material/check_circle: **formula and PyTorch agree**]" if report.agree
            else ":red[:material/error: **formula and PyTorch DISAGREE**]")


def _formula(heading: str = "") -> str:
    """Every output size worked out in one formula block, under its heading and over its notes, as markdown."""
    # Projector: dimensions with the same numbers worked out once (H_out = W_out = …), so all fits 1280×720.
    groups = merged_latex(explanation.dims) if present else [(s.latex, (s,)) for s in explanation.dims]
    notes = [step.note for _, steps in groups for step in steps if step.note]
    return formula_markdown(stacked_latex([latex for latex, _ in groups] + [explanation.channels_latex]), heading, notes)


with answer_col if present else nullcontext():  # projector: a layer PyTorch cannot run says so where its answer goes
    report = _run() if revealed else None
if report and present:  # projector: everything on the first screen of a 1280×720 projector
    size_text, mark = _torch_parts(report)
    answer_col.markdown(f"## `{size_text}`\n### {mark}\n\n{_formula()}")
    side_col.code(report.code, language="python", wrap_lines=True)
    png, caption = layer_grid_png(spec, config.input_size)
    # Pictures go inline (data: URIs): no media file to store and no second request per picture, each of which
    # crossed the server's whole HTTP stack (issue 17).
    side_col.image(png_data_uri(png), caption=caption, width=300, alt=f"{caption}, for {layer_words(config)}")
elif report and phone:  # the answer right under the number boxes
    size_text, mark = _torch_parts(report)
    st.code(size_text, language="text")
    st.markdown(mark)
    st.code(report.code, language="python", wrap_lines=True)
    st.markdown(_formula("### Formula"))
elif report:  # one element: the formula beside the PyTorch heading, the code that ran, its torch.Size, the mark
    size_text, mark = _torch_parts(report)
    markdown_columns([_formula("### Formula")], ["### PyTorch", Code(report.code, "python"), Code(size_text),
                                                 f"{mark}  \nthe formula gives `{tuple(report.formula_shape)}`"])
elif revealed:  # PyTorch could not run it (said above): the formula alone
    answer_col.markdown(_formula("" if present else "### Formula"))
if revealed and not present:
    cost = report.cost if report else None
    (png, caption), (blocks, blocks_caption) = (layer_pictures or start_layer_pictures(*pictures_of_layer))()
    # The five metrics and the two pictures are one HTML element: one message per rerun instead of thirteen, each of
    # which cost the server ~0.3 ms and the browser a redraw (issue 17; issue 16).
    metric_and_figure_rows([
        Metric("Parameters", f"{report.params:,}", "summed from the module's own parameters"),
        Metric("Multiply-accumulates", count_text(cost.macs), f"multiply-adds for one input (batch 1): {cost.macs:,}"),
        Metric("Output memory", memory_text(cost.output_bytes), "float32, batch of 1"),
        Metric("Effective kernel", fmt(cost.effective_kernel), "d·(k−1)+1"),
        Metric("Receptive field", fmt(cost.receptive_field), "input cells one output cell sees")] if cost else [], [
        Figure(png, caption, f"{caption}, for {layer_words(config)}", "The grid the kernel slides over.",
               "Blue cells are the input, grey the padding, orange the first window; red cells are never covered by "
               "any window.", tuple(step.note for step in explanation.dims if step.note)),
        Figure(blocks, blocks_caption, f"Tensors as blocks: {blocks_caption}", "The tensors as blocks.",
               "Each filter spans every input channel of its group and makes one output slice: the input volume "
               "becomes a volume with one slice per filter.")])

share_box(layer_share_query(config))
