"""Feature maps: the configured layer run on a real picture, every output channel drawn beside its kernel."""

from contextlib import nullcontext
from dataclasses import replace

import streamlit as st

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.torch_run import causal_pad
from conv_lab.features.banks import sees_text
from conv_lab.features.figures import image_format
from conv_lab.features.images import ImageError, read_upload
from conv_lab.features.runs import (
    FEATURE_OPTION,
    OPTION_KEYS,
    SCALES,
    UPLOAD,
    FeatureOptions,
    options_query,
    parse_options,
)
from conv_lab.features.signals import MAX_LINES, MAX_MAPS_3D, clip_png, run_sample, signal_png
from conv_lab.features.view import feature_view
from conv_lab.lab.alt_text import layer_words
from ui import current_config, require_entry, show_config_error, show_notices, url_options, write_url_options
from ui.phone import on_phone, phone_controls
from ui.present import page_intro
from ui.share import layer_share_query, share_box

require_entry()
config = current_config()

page_intro("Feature maps",
           f"Why do {config.in_channels} input channels and {config.out_channels} filters give {config.out_channels} "
           "maps? The layer from the sidebar runs on "
           + {1: "a signal", 2: "a real picture", 3: "a clip"}[config.dims]
           + ": each filter makes one output map, drawn with its kernel beside it.")
show_notices()

if config.dims != 2:  # pictures (samples and uploads) are 2-D: a 1-D layer gets a chirp, a 3-D layer a short clip
    what = "a generated chirp with noise" if config.dims == 1 else "a generated clip: a square moving over the frames"
    st.caption(f"A {config.dims}-D layer runs on {what} instead of a picture; uploads are 2-D pictures, so the upload "
               "control is shown for 2-D layers only.")
    phone_controls()  # a phone: the layer's boxes right above the output
    try:
        spec = config.spec()
        sample = run_sample(spec, config.input_size)
    except ConvConfigError as exc:
        show_config_error(exc)
        st.stop()
    sizes = "×".join(str(v) for v in sample.torch_size[2:])
    st.subheader(f"Output `{sample.torch_size}`")
    st.markdown(f"input `{tuple(sample.x.shape)}` → `{spec.module_name}` with **{spec.out_channels} filters** → "
                f"**{spec.out_channels} output channels** of {sizes}. Torch's seeded initial weights, bias 0"
                + (f"; causal: `F.pad(x, ({causal_pad(spec)}, 0))` first, so position t sees only t and before."
                   if spec.padding == "causal" else "."))
    if config.dims == 1:
        st.image(signal_png(sample), alt=f"Input signal and output channels of {layer_words(config)}",
                 caption="The chirp's frequency rises left to right: each output channel is one "
                 f"filter's response along the sequence (the first {min(spec.out_channels, MAX_LINES)} channels).")
    else:
        st.image(clip_png(sample), alt=f"Input and output depth slices of {layer_words(config)}",
                 caption="Depth slices (frames) of the input and of the first "
                 f"{min(spec.out_channels, MAX_MAPS_3D)} output channels (red above 0, blue below).")
    share_box(layer_share_query(config, OPTION_KEYS), "this layer on its generated input")
    st.stop()

# Page options (the FEATURE_OPTIONS table): the URL seeds the widgets (first visit, a link, back button); the
# widgets write the URL.
WIDGETS = {key: f"w_fm_{key}" for key in OPTION_KEYS if key != "cell"}
CELL_KEYS = ("w_fm_row", "w_fm_col")  # cell=row,col: two number boxes
in_url = url_options("feature_maps", OPTION_KEYS, [*WIDGETS.values(), *CELL_KEYS])
if in_url is not None:
    from_url, st.session_state["_fm_notices"] = parse_options(in_url)
    for key, widget in WIDGETS.items():
        st.session_state[widget] = getattr(from_url, key)
    st.session_state.update(zip(CELL_KEYS, from_url.cell))
show_notices(st.session_state.get("_fm_notices", []))
opt = FEATURE_OPTION

# A phone: these options one tap away, so the layer's boxes and the maps come first on the screen.
with st.expander("Picture, filters and colour scale") if on_phone() else nullcontext():
    with st.container(horizontal=True):
        image = st.selectbox(opt["image"].label, opt["image"].choices, key="w_fm_image", help=opt["image"].help,
                             format_func=lambda v: "your own (upload)" if v == UPLOAD else v)
        bank = st.selectbox(opt["bank"].label, opt["bank"].choices, key="w_fm_bank", help=opt["bank"].help)
        seed = st.number_input(opt["seed"].label, opt["seed"].lo, opt["seed"].hi, step=1, key="w_fm_seed",
                               disabled=bank == "classic", help=opt["seed"].help)
        scale = st.radio(opt["scale"].label, opt["scale"].choices, key="w_fm_scale", format_func=lambda v: SCALES[v],
                         horizontal=True)
    with st.container(horizontal=True):
        relu = st.toggle(opt["relu"].label, key="w_fm_relu", help=opt["relu"].help)
        own_size = st.toggle(opt["own_size"].label, key="w_fm_own_size", help=opt["own_size"].help)

phone_controls()  # a phone: the layer's boxes right above the output (and any message about the layer)
options = FeatureOptions(image, bank, int(seed), relu, own_size, scale, int(st.session_state.get("w_fm_filter", 0)),
                         bool(st.session_state.get("w_fm_patch")), tuple(st.session_state.get(k, 0) for k in CELL_KEYS))
try:
    if image == UPLOAD:
        upload = st.file_uploader("Upload a PNG or JPEG picture", type=["png", "jpg", "jpeg"], key="w_fm_upload",
                                  max_upload_size=limits.MAX_UPLOAD_BYTES // (1024 * 1024),
                                  help=f"at most {limits.MAX_UPLOAD_BYTES // (1024 * 1024)} MB; larger than "
                                       f"{limits.MAX_IMAGE_SIDE} px per side is shrunk")
        if upload is None:
            st.info("Choose a picture to upload; it stays on this server only while you use it.",
                    icon=":material/upload:")
            picture = None
        else:
            picture = read_upload(upload.getvalue(), upload.name)
    else:
        picture = image  # a sample, by name: run and drawn in the render worker
    spec = config.spec()
    view = feature_view(spec, picture, config.height, config.width, bank, int(seed), relu, own_size, scale == "map",
                        options.filter, options.patch, options.cell) if picture is not None else None
except ImageError as exc:
    st.error(f"**Picture not used**: {exc.why}.  \n**Fix:** {exc.fix}", icon=":material/broken_image:")
    view = None
except ConvConfigError as exc:
    show_config_error(exc)
    view = None

# Write the page options to the URL (only those that differ from the defaults).
if view is not None:
    options = replace(options, filter=view.filter, cell=view.cell)  # clamped to this layer's filters and maps
    if st.session_state.get("w_fm_filter") != options.filter:  # assign only to change it: it moves the control
        st.session_state["w_fm_filter"] = options.filter
    if tuple(st.session_state.get(k, 0) for k in CELL_KEYS) != options.cell:  # a link's cell past this map's edge
        st.session_state.update(zip(CELL_KEYS, options.cell))
write_url_options("feature_maps", options_query(options))
if view is None:
    st.stop()

torch_size = f"torch.Size({list(view.torch_size)})"
st.subheader(f"Output `{torch_size}`")
c, h, w = view.input_chw
st.markdown(f"{view.source} → input `torch.Size([1, {c}, {h}, {w}])` → `{spec.module_name}` with "
            f"**{spec.out_channels} filters** → **{spec.out_channels} maps** of "
            f"{view.torch_size[2]}×{view.torch_size[3]}"
            + (f", in {spec.groups} groups (each filter sees {len(view.filter_sees[0])} of the "
               f"{spec.in_channels} input channels)" if spec.groups > 1 else "")
            + (", then ReLU (negatives become 0)" if relu else "")
            + ". Bias is set to 0 so each map shows its kernel alone.")
for notice in view.notices:
    st.caption(f"ℹ️ {notice}")
if own_size:
    st.caption(f"ℹ️ the picture's own size {w}×{h} is used instead of the sidebar's {config.width}×{config.height}")

st.image(view.input_png, caption=view.input_caption, output_format=image_format(view.input_png),
         alt=f"The input picture: {view.input_caption}")
st.image(view.grid_png, caption=view.grid_caption, output_format=image_format(view.grid_png),
         alt=f"{spec.out_channels} feature maps of {layer_words(config)}: {view.grid_caption}")

chosen = st.selectbox(opt["filter"].label, list(range(len(view.filter_names))), key="w_fm_filter",
                      format_func=lambda i: f"#{i} {view.filter_names[i]} — sees "
                                            f"{sees_text(view.filter_sees[i], view.channel_names)}")
with st.container(horizontal=True, vertical_alignment="bottom"):
    st.toggle(opt["patch"].label, key="w_fm_patch", help=opt["patch"].help)
    if options.patch:
        for key, label, size in zip(CELL_KEYS, ("Map row", "Map column"), view.maps_hw):
            st.number_input(label, 0, size - 1, key=key, width=130)
where = f"; {view.patch_text}" if view.patch_text else ""
st.image(view.big_png, caption=f"Map #{chosen} enlarged: the input it sees, its kernel, the result{where}",
         output_format=image_format(view.big_png),
         alt=f"Map #{chosen}, {view.filter_names[chosen]}: the input it sees, its kernel, the result{where}")
share_box(layer_share_query(config, OPTION_KEYS), "this layer on this picture with these options")
