"""The layer controls, drawn from conv_lab's parameter table, and the one shared configuration.

The configuration lives in one place, `st.session_state["config"]` (a LabConfig). `app.py` calls
`layer_controls()` on every run of a page that uses it; pages read `current_config()` and render.
Each row of `PARAMETERS` becomes its control: an int a slider (groups: the counts torch accepts),
a pair one slider or a height/width pair, a choice a select box, a bool a toggle; rows that are
not always in a link sit under "Advanced". No arithmetic here.
"""

from __future__ import annotations

import streamlit as st

from conv_lab.core.options import Option
from conv_lab.core.params import PARAMETERS, group_counts
from conv_lab.core.state import CONFIG_KEYS, LabConfig, parse_query, to_query
from ui.navigation import PAGE_OPTION_KEYS
from ui.url_sync import controls_moved, url_options, write_url_options

PAIRS = tuple(p.name for p in PARAMETERS if p.kind == "pair")
PADDING_KIND = "w_padding_kind"  # the radio beside a pair row with words (padding: number, same, valid)


def _config_values(config: LabConfig) -> dict:
    """The config by table name (input_size as a pair)."""
    return {p.name: (config.input_size if p.name == "input_size" else getattr(config, p.name)) for p in PARAMETERS}


def _widget_values(config: LabConfig) -> dict:
    """Session-state values of every control for `config` (keys are the widget keys)."""
    values = {"w_non_square": config.non_square}
    for p, value in zip(PARAMETERS, _config_values(config).values()):
        if p.kind != "pair":
            values[f"w_{p.name}"] = value
            continue
        if p.words:
            values[PADDING_KIND] = value if isinstance(value, str) else "number"
            value = p.default if isinstance(value, str) else value
        h, w = (value, value) if isinstance(value, int) else value
        values[f"w_{p.name}"], values[f"w_{p.name}_h"], values[f"w_{p.name}_w"] = h, h, w
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


def load_config_from_url() -> LabConfig:
    """Adopt the URL's configuration when it carries one we did not write (a deep link or back button)."""
    # This runs first in a run (app.py, before the page): decide what moved before any snapshot is renewed.
    st.session_state["_moved_this_run"] = st.session_state["_moved_before_page"] = controls_moved()
    url = url_options("layer", CONFIG_KEYS, _widget_values(LabConfig()), keep_when_absent=True)
    if "config" not in st.session_state or url is not None:
        config, notices = parse_query(_query_dict(), PAGE_OPTION_KEYS)
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
def _pair_slider(container, p: Option, non_square: bool, disabled: bool = False) -> tuple[int, int]:
    if not non_square:
        v = container.slider(p.label, p.lo, p.hi, p.lo, key=f"w_{p.name}", help=p.help, disabled=disabled)
        return v, v
    left, right = container.columns(2)
    h = left.slider(f"{p.label} — height", p.lo, p.hi, p.lo, key=f"w_{p.name}_h", help=p.help, disabled=disabled)
    w = right.slider(f"{p.label} — width", p.lo, p.hi, p.lo, key=f"w_{p.name}_w", help=p.help, disabled=disabled)
    return h, w


def _control(container, p: Option, values: dict, non_square: bool):
    """Draw the control of one table row; return its value (values: the rows drawn before it, by name)."""
    key = f"w_{p.name}"
    if p.kind == "pair":
        if p.words:  # a number or one of the words: the radio is drawn with the advanced rows
            kind = st.session_state.get(PADDING_KIND, "number")
            pair = _pair_slider(container, p, non_square, disabled=kind != "number")
            return pair if kind == "number" else kind
        return _pair_slider(container, p, non_square, disabled=p.name == "output_padding" and not values["transposed"])
    if p.name == "groups":  # only the counts torch accepts for these channels
        options = sorted(set(group_counts(values["in_channels"], values["out_channels"])) | {st.session_state.get(key, 1)})
        return container.selectbox(p.label, options, key=key, help=p.help)
    if p.kind == "int":
        return container.slider(p.label, p.lo, p.hi, p.lo, key=key, help=p.help)
    if p.kind == "choice":
        return container.selectbox(p.label, p.choices, key=key, help=p.help)
    return container.toggle(p.label, key=key, help=p.help)


def layer_controls(container=None) -> LabConfig:
    """Draw the layer controls (sidebar by default) from the parameter table; return the configuration they show."""
    container = container or st.sidebar
    config = load_config_from_url()
    container.header("Layer")
    non_square = container.toggle("Non-square sizes", key="w_non_square", help="separate height and width")
    values: dict = {}
    for p in (p for p in PARAMETERS if p.always):
        values[p.name] = _control(container, p, values, non_square)
    advanced = [p for p in PARAMETERS if not p.always]
    worded = [p for p in PARAMETERS if p.words]  # one radio key: a second worded row would need its own
    now, defaults = _config_values(config), _config_values(LabConfig())
    at_defaults = all(now[p.name] == defaults[p.name] for p in advanced)
    with container.expander("Advanced", expanded=not at_defaults or st.session_state.get(PADDING_KIND) != "number"):
        for p in worded:  # the kind of a worded row (padding: a number, 'same' or 'valid'); its slider is above
            st.radio(f"{p.label} kind", ["number", *p.words], key=PADDING_KIND, horizontal=True, help=p.help)
        for p in advanced:
            values[p.name] = _control(st, p, values, non_square)
    values["height"], values["width"] = values.pop("input_size")
    new = LabConfig(**values)
    if new != config:
        st.session_state["config"] = new
        st.session_state["notices"] = []
    # Keep the controls hidden this run (square vs height/width) in step, for when the toggle flips.
    shown = _widget_values(new)
    for name in PAIRS:
        for key in ([f"w_{name}"] if non_square else [f"w_{name}_h", f"w_{name}_w"]):
            st.session_state[key] = shown[key]
    write_url(new)
    return new


def apply_config(config: LabConfig) -> None:
    """Make `config` the shared configuration and move every control to it (use from a callback)."""
    st.session_state["config"] = config
    st.session_state["notices"] = []
    _seed_widgets(config)


