"""The layer controls, drawn from conv_lab's parameter table, and the one shared configuration.

The configuration lives in one place, `st.session_state["config"]` (a LabConfig). `app.py` calls
`layer_controls()` on every run of a page that uses it; pages read `current_config()` and render.
Each row of `PARAMETERS` becomes its control: an int a slider (groups: the counts torch accepts),
a size one slider or one per dimension (1-D input length: a number box, the range is wide), a choice
a select box, a bool a toggle; rows that are not always in a link sit under "Advanced". A dimension
control on top (1-D, 2-D, 3-D) converts the layer and sets which size controls are drawn. No arithmetic here.
"""

from __future__ import annotations

import streamlit as st

from conv_lab.core.options import Option
from conv_lab.core.params import AXES, DIMS, PARAMETERS, group_counts
from conv_lab.core.state import CONFIG_KEYS, LabConfig, parse_query, sized, to_query
from ui.navigation import PAGE_OPTION_KEYS
from ui.style import page_style
from ui.url_sync import controls_moved, url_now, url_options, write_url_options

SIZED = tuple(p.name for p in PARAMETERS if p.kind == "sizes")
PADDING_KIND = "w_padding_kind"  # the radio beside a sized row with words (padding: number, same, valid, causal)
DIMS_KEY = "w_dims"
DIM_LABELS = {1: "1-D", 2: "2-D", 3: "3-D"}
# "Advanced" tracks whether it is open and draws its controls only then: a closed expander's seven widgets cost the
# server ~20 % of a Shape Lab rerun and the browser a redraw on every slider press (issue 16, issue 17).
ADVANCED_KEY = "w_advanced"


def _config_values(config: LabConfig) -> dict:
    """The config by table name (input_size as its sizes)."""
    return {p.name: (config.input_size if p.name == "input_size" else getattr(config, p.name)) for p in PARAMETERS}


def _axis_keys(name: str, dims: int) -> list[str]:
    """Widget keys of a sized row's per-dimension sliders (w_kernel_size_h, …); 1-D has only the one slider."""
    return [f"w_{name}_{sym.lower()}" for _, sym, _ in AXES[dims]] if dims > 1 else []


def _widget_values(config: LabConfig) -> dict:
    """Session-state values of every control for `config` (keys are the widget keys)."""
    values = {"w_non_square": config.non_square, DIMS_KEY: DIM_LABELS[config.dims]}
    for p, value in zip(PARAMETERS, _config_values(config).values()):
        if p.kind != "sizes":
            values[f"w_{p.name}"] = value
            continue
        if p.words:
            values[PADDING_KIND] = value if isinstance(value, str) else "number"
            value = p.default if isinstance(value, str) else value
        value = sized(value, config.dims)
        values[f"w_{p.name}"] = value[1 if p.name == "input_size" and config.dims == 3 else 0]  # H×W of a clip
        values.update(zip(_axis_keys(p.name, config.dims), value))
    return values


def _seed_widgets(config: LabConfig) -> None:
    for key, value in _widget_values(config).items():
        st.session_state[key] = value


def current_config() -> LabConfig:
    """The shared configuration (defaults before the first run).

    >>> isinstance(current_config(), LabConfig)
    True
    """
    return st.session_state.get("config", LabConfig())


def _query_dict() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in st.query_params.keys()}


def load_config_from_url(first_visit: LabConfig | None = None) -> LabConfig:
    """Adopt the URL's configuration when it carries one we did not write (a deep link or back button).

    first_visit: the layer a session's first run starts from when its link names no layer (else the defaults).
    """
    # This runs first in a run (app.py, before the page): decide what moved before any snapshot is renewed.
    st.session_state["_moved_this_run"] = st.session_state["_moved_before_page"] = controls_moved()
    url = url_options("layer", CONFIG_KEYS, _widget_values(LabConfig()), keep_when_absent=True)
    if "config" not in st.session_state or url is not None:
        query = url_now()
        named = any(key in query for key in CONFIG_KEYS)
        base = first_visit if first_visit and not named and "config" not in st.session_state else LabConfig()
        config, notices = parse_query(_query_dict(), PAGE_OPTION_KEYS, base)
        st.session_state["config"] = config
        st.session_state["notices"] = notices
        _seed_widgets(config)
    elif any(k not in st.session_state for k in _widget_values(current_config())):
        _seed_widgets_missing(current_config())
    return current_config()


def _seed_widgets_missing(config: LabConfig) -> None:
    # Streamlit drops widget state of widgets a page did not draw; re-seed from the shared config.
    for key, value in _widget_values(config).items():
        st.session_state.setdefault(key, value)


def write_url(config: LabConfig) -> None:
    """Put the configuration in the URL, key by key, leaving page options (present=1, …) alone."""
    write_url_options("layer", to_query(config))


# Every slider passes value=lo, the default Streamlit picks anyway for value=None: with value=None it first copies the
# whole session state to tell a single slider from a range (issue 17: ~4 % of the server's CPU under classroom load).
# The controls' values always come from session state; .streamlit/config.toml silences the one-time log line
# "created with a default value but also had its value set via the Session State API".
def _sizes_control(container, p: Option, dims: int, non_square: bool, disabled: bool = False) -> tuple[int, ...]:
    """One slider for every dimension, or one per dimension (a number box for the long 1-D input)."""
    hi = p.his[dims - 1] if p.his else p.hi
    if dims == 1 and p.name == "input_size":
        return (container.number_input("Input length (L)", p.lo, hi, p.lo, key=f"w_{p.name}", step=1, help=p.help),)
    if dims == 3 and p.name == "input_size" and not non_square:  # a clip: its frames, then one frame's side
        depth = container.slider("Input depth (frames)", p.lo, hi, p.lo, key=f"w_{p.name}_d", help="D: frames or slices")
        v = container.slider("Input size (H×W)", p.lo, hi, p.lo, key=f"w_{p.name}", help=p.help)
        return depth, v, v
    if not non_square or dims == 1:
        v = container.slider(p.label, p.lo, hi, p.lo, key=f"w_{p.name}", help=p.help, disabled=disabled)
        return (v,) * dims
    if dims == 2:
        columns = container.columns(dims)
        return tuple(col.slider(f"{p.label} — {axis}", p.lo, hi, p.lo, key=key, help=p.help, disabled=disabled)
                     for col, key, (axis, _, _) in zip(columns, _axis_keys(p.name, dims), AXES[dims]))
    container.markdown(f"{p.label} — depth, height, width", help=p.help)  # three columns: short labels
    columns = container.columns(dims)
    return tuple(col.slider(sym, p.lo, hi, p.lo, key=key, disabled=disabled)
                 for col, key, (_, sym, _) in zip(columns, _axis_keys(p.name, dims), AXES[dims]))


def _control(container, p: Option, values: dict, non_square: bool, dims: int, unused: dict[str, str]):
    """Draw the control of one table row; return its value (values: the rows drawn before it, by name).

    unused: rows the page ignores, greyed out with the reason as their help."""
    key = f"w_{p.name}"
    off = p.name in unused
    helps = f"Not used here: {unused[p.name]}." if off else p.help
    if p.kind == "sizes":
        if p.words:  # a number or one of the words: the radio is drawn with the advanced rows
            kind = st.session_state.get(PADDING_KIND, "number")
            sizes = _sizes_control(container, p, dims, non_square, disabled=kind != "number")
            return sizes if kind == "number" else kind
        return _sizes_control(container, p, dims, non_square,
                              disabled=p.name == "output_padding" and not values["transposed"])
    if p.name == "groups":  # only the counts torch accepts for these channels
        options = sorted(set(group_counts(values["in_channels"], values["out_channels"])) | {st.session_state.get(key, 1)})
        return container.selectbox(p.label, options, key=key, help=helps, disabled=off)
    if p.kind == "int":
        return container.slider(p.label, p.lo, p.hi, p.lo, key=key, help=helps, disabled=off)
    if p.kind == "choice":
        return container.selectbox(p.label, p.choices, key=key, help=helps, disabled=off)
    return container.toggle(p.label, key=key, help=helps, disabled=off)


def _open_advanced_when_used(used: bool) -> None:
    """Keep "Advanced" open while the layer uses one of its rows (a link, a preset): they are part of the layer shown,
    on every run alike (a tab that does not echo the expander's state back gets the same page)."""
    if used:
        st.session_state[ADVANCED_KEY] = True


def _switch_dims() -> None:
    """The dimension control moved: the same layer in the new dimension, every control moved to it."""
    chosen = [n for n, label in DIM_LABELS.items() if label == st.session_state.get(DIMS_KEY)]
    config = current_config()  # a click on the chosen segment unselects it: keep the dimension
    apply_config(config.with_dims(chosen[0]) if chosen else config)


def layer_controls(container=None, first_visit: LabConfig | None = None, unused: dict[str, str] | None = None
                   ) -> LabConfig:
    """Draw the layer controls (sidebar by default) from the parameter table; return the configuration they show.

    first_visit: the layer a session starts from when its first link names none (the sweep's small layer).
    unused: the layer fields this page ignores (by field name), greyed out with the reason.
    """
    container = container or st.sidebar
    config = load_config_from_url(first_visit)
    # A markdown heading: st.header costs the browser ~5× more to redraw per rerun. It carries the page's style, which
    # was an element of its own on every run (issue 17); ui.present.projector_mode(styled=True) then sends none.
    container.markdown(f"## Layer\n\n{page_style()}", unsafe_allow_html=True)
    container.segmented_control("Dimensions", [DIM_LABELS[n] for n in DIMS], key=DIMS_KEY, on_change=_switch_dims,
                                help="Conv1d (sequences, audio), Conv2d (images) or Conv3d (video, volumes)")
    dims = config.dims
    non_square = container.toggle("Non-square sizes", key="w_non_square", help="a different size per dimension",
                                  disabled=dims == 1)
    values: dict = {}
    for p in (p for p in PARAMETERS if p.always):
        values[p.name] = _control(container, p, values, non_square, dims, unused or {})
    advanced = [p for p in PARAMETERS if not p.always]
    worded = [p for p in PARAMETERS if p.words]  # one radio key: a second worded row would need its own
    now, defaults = _config_values(config), _config_values(LabConfig().with_dims(dims))  # (1, 1, 1) is 3-D's default
    _open_advanced_when_used(not all(now[p.name] == defaults[p.name] for p in advanced)
                             or st.session_state.get(PADDING_KIND) != "number")
    expander = container.expander("Advanced", key=ADVANCED_KEY, on_change="rerun")
    if expander.open:
        for p in worded:  # the kind of a worded row (padding: a number, 'same', 'valid', 'causal' in 1-D); slider above
            words = [w for w in p.words if w != "causal" or dims == 1 or st.session_state.get(PADDING_KIND) == w]
            expander.radio(f"{p.label} kind", ["number", *words], key=PADDING_KIND, horizontal=True, help=p.help)
        for p in advanced:
            values[p.name] = _control(expander, p, values, non_square, dims, unused or {})
    else:  # closed: its seven controls are not drawn; the layer keeps their values (see ADVANCED_KEY)
        values.update((p.name, now[p.name]) for p in advanced)
    size = values.pop("input_size")
    values.update(dims=dims, depth=size[0] if dims == 3 else 1, height=size[-2] if dims > 1 else 1, width=size[-1])
    new = LabConfig(**values)
    if new != config:
        st.session_state["config"] = new
        st.session_state["notices"] = []
    # Keep the controls hidden this run (square vs height/width) in step, for when the toggle flips. Written only when
    # they differ: a session-state write costs ~57 µs, a read ~5 µs (issue 17); one Streamlit drops at the end of the
    # run is re-seeded from the config by load_config_from_url.
    shown = _widget_values(new)
    for name in SIZED:
        for key in ([f"w_{name}"] if non_square else _axis_keys(name, dims)):
            if key != "w_input_size_d" and st.session_state.get(key) != shown[key]:  # w_input_size_d: drawn in both
                st.session_state[key] = shown[key]
    write_url(new)
    return new


def apply_config(config: LabConfig) -> None:
    """Make `config` the shared configuration and move every control to it (use from a callback)."""
    st.session_state["config"] = config
    st.session_state["notices"] = []
    _seed_widgets(config)


