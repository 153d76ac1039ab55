"""Streamlit glue shared by every page: layer controls drawn from conv_lab's parameter table, URL sync.

The configuration lives in one place, `st.session_state["config"]` (a LabConfig).
`app.py` calls `layer_controls()` on every run of a page that uses it; pages read
`current_config()` and render. No arithmetic here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from conv_lab.core.spec import PADDING_MODES, PARAM, ConvConfigError
from conv_lab.core.state import CONFIG_KEYS, UI_KEYS, LabConfig, parse_query, to_query

_PAIRS = ("input_size", "kernel_size", "stride", "padding", "dilation", "output_padding")


def require_entry() -> None:
    """Make sure this page runs inside app.py's navigation; call first thing on every page.

    Because a `pages/` folder sits beside app.py, Streamlit runs a page file on its own
    (its old multipage mode) until some run in the process has called st.navigation:
    after a server restart, a student's deep link to /sweep would land there first, without
    the shared controls. Switch the process to app.py's navigation, as st.navigation does,
    and rerun. (Streamlit's AppTest resets that switch on every run, so tests pass here too.)
    """
    # The page's first call in every run (after app.py's layer controls): fix what moved for url_options.
    moved = st.session_state.pop("_moved_before_page", None)
    st.session_state["_moved_this_run"] = _controls_moved() if moved is None else moved
    if st.session_state.pop("_entry_ran", False):
        return
    PagesManager.uses_pages_directory = False
    st.rerun()


def _widget_values(config: LabConfig) -> dict:
    """Session-state values of every control for `config` (keys are the widget keys)."""
    pad = config.padding if isinstance(config.padding, tuple) else (PARAM["padding"].default,) * 2
    values = {"w_in_channels": config.in_channels, "w_out_channels": config.out_channels,
              "w_groups": config.groups, "w_bias": config.bias, "w_padding_mode": config.padding_mode,
              "w_transposed": config.transposed, "w_non_square": config.non_square,
              "w_padding_kind": config.padding if isinstance(config.padding, str) else "number"}
    pairs = {"input_size": (config.height, config.width), "kernel_size": config.kernel_size, "stride": config.stride,
             "padding": pad, "dilation": config.dilation, "output_padding": config.output_padding}
    for name, (h, w) in pairs.items():
        values[f"w_{name}"], values[f"w_{name}_h"], values[f"w_{name}_w"] = h, h, w
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
    st.session_state["_moved_this_run"] = st.session_state["_moved_before_page"] = _controls_moved()
    url = url_options("layer", CONFIG_KEYS, _widget_values(LabConfig()), keep_when_absent=True)
    if "config" not in st.session_state or url is not None:
        config, notices = parse_query(_query_dict(), UI_KEYS)
        st.session_state["config"] = config
        st.session_state["notices"] = notices
        _seed_widgets(config)
    elif any(k not in st.session_state for k in _widget_values(current_config())):
        _seed_widgets_missing(current_config())
    return current_config()


# URL-synced options, one mechanism for the layer config, every page's options and page flags.
# A rerun carries the URL the browser showed when the event was sent; after quick presses that is often our
# previous write, not yet applied in the browser. Comparing "URL != what we last wrote" would then adopt the
# stale URL and undo the newest presses. Rule: if any control changed since the last run, the controls win;
# if none changed, a URL that differs from our last write is adopted (a deep link, the back button).
# Each group (name) remembers in session state its URL keys, its last write and its controls' values then.

def url_options(name: str, keys: Iterable[str], widget_keys: Iterable[str],
                keep_when_absent: bool = False) -> dict[str, str] | None:
    """The URL's values of `keys` (last of each) when the page should take them, else None (the controls rule).

    Taken: on the group's first run or when its first control's state is gone (the page was not drawn: Streamlit
    dropped it), and when the URL differs from our last write while no control moved. `widget_keys`: the
    session-state keys of the controls deciding these options (no buttons), first one always drawn; their values
    at `write_url_options` tell the next run whether a control moved. keep_when_absent: a URL with none of `keys`
    (arriving from another page) keeps the session's values. Call `write_url_options(name, …)` in the same run.
    """
    entry = st.session_state.setdefault("_url_options", {}).setdefault(name, {})
    entry["keys"], entry["widgets"] = tuple(keys), tuple(widget_keys)
    in_url = {k: st.query_params.get_all(k)[-1] for k in entry["keys"] if st.query_params.get_all(k)}
    if keep_when_absent and not in_url and "written" in entry:
        return None
    if "written" not in entry or (entry["widgets"] and entry["widgets"][0] not in st.session_state):
        return in_url
    return None if in_url == entry["written"] or _moved_this_run() else in_url


def write_url_options(name: str, wanted: dict[str, str], widget_keys: Iterable[str] | None = None) -> None:
    """Make the group's URL keys exactly `wanted` (drop the others) and remember the write and the controls.

    Writes only when something differs (each write is a message to the browser carrying the whole query string).
    widget_keys: the controls now, when they changed since `url_options` (e.g. an editor with a new key).
    """
    entry = st.session_state["_url_options"][name]
    entry["widgets"] = entry["widgets"] if widget_keys is None else tuple(widget_keys)
    for key in entry["keys"]:
        if key not in wanted and key in st.query_params:
            del st.query_params[key]
    # Also when only our last write differs: the browser holds that one, not the (older) URL this run carries.
    if wanted != entry.get("written", wanted) or any(st.query_params.get(k) != v for k, v in wanted.items()):
        st.query_params.update(wanted)
    entry["written"] = dict(wanted)
    entry["seen"] = {k: st.session_state[k] for k in entry["widgets"] if k in st.session_state}


def _controls_moved() -> bool:
    """True when a control of any group holds another value than at that group's last write."""
    return any(key in st.session_state and st.session_state[key] != value
               for entry in st.session_state.get("_url_options", {}).values()
               for key, value in entry.get("seen", {}).items())


def _moved_this_run() -> bool:
    """Whether a control moved, as decided at the start of this run (before any group renewed its snapshot)."""
    moved = st.session_state.get("_moved_this_run")
    return _controls_moved() if moved is None else moved


def _seed_widgets_missing(config: LabConfig) -> None:
    # Streamlit drops widget state of widgets a page did not draw; re-seed from the shared config.
    for key, value in _widget_values(config).items():
        st.session_state.setdefault(key, value)


def write_url(config: LabConfig) -> None:
    """Put the configuration in the URL, key by key, leaving page options (present=1, …) alone."""
    write_url_options("layer", to_query(config))


def _pair_slider(container, name: str, non_square: bool, disabled: bool = False) -> tuple[int, int]:
    p = PARAM[name]
    if not non_square:
        v = container.slider(p.label, p.lo, p.hi, key=f"w_{name}", help=p.help, disabled=disabled)
        return v, v
    left, right = container.columns(2)
    h = left.slider(f"{p.label} — height", p.lo, p.hi, key=f"w_{name}_h", help=p.help, disabled=disabled)
    w = right.slider(f"{p.label} — width", p.lo, p.hi, key=f"w_{name}_w", help=p.help, disabled=disabled)
    return h, w


def _group_options(config: LabConfig) -> list[int]:
    g = math.gcd(config.in_channels, config.out_channels)
    options = [d for d in range(1, g + 1) if g % d == 0]
    return sorted(set(options) | {config.groups})


def layer_controls(container=None) -> LabConfig:
    """Draw the layer controls (sidebar by default) and return the configuration they show."""
    container = container or st.sidebar
    config = load_config_from_url()
    container.header("Layer")
    non_square = container.toggle("Non-square sizes", key="w_non_square", help="separate height and width")
    c = container
    in_channels = c.slider(PARAM["in_channels"].label, PARAM["in_channels"].lo, PARAM["in_channels"].hi,
                           key="w_in_channels", help=PARAM["in_channels"].help)
    height, width = _pair_slider(c, "input_size", non_square)
    out_channels = c.slider(PARAM["out_channels"].label, PARAM["out_channels"].lo, PARAM["out_channels"].hi,
                            key="w_out_channels", help=PARAM["out_channels"].help)
    kernel = _pair_slider(c, "kernel_size", non_square)
    stride = _pair_slider(c, "stride", non_square)
    padding_kind = st.session_state.get("w_padding_kind", "number")
    padding = _pair_slider(c, "padding", non_square, disabled=padding_kind != "number")
    with c.expander("Advanced", expanded=config != config.with_values(
            dilation=(1, 1), groups=1, bias=True, padding_mode="zeros", transposed=False, output_padding=(0, 0))
            or padding_kind != "number"):
        dilation = _pair_slider(st, "dilation", non_square)
        st.session_state.setdefault("w_groups", config.groups)
        groups = st.selectbox(PARAM["groups"].label, _group_options(config.with_values(
            in_channels=in_channels, out_channels=out_channels)), key="w_groups", help=PARAM["groups"].help)
        padding_kind = st.radio("Padding kind", ["number", "same", "valid"], key="w_padding_kind", horizontal=True,
                                help="'same' keeps the size (stride 1); 'valid' means no padding")
        padding_mode = st.selectbox(PARAM["padding_mode"].label, PADDING_MODES, key="w_padding_mode",
                                    help=PARAM["padding_mode"].help)
        bias = st.toggle(PARAM["bias"].label, key="w_bias", help=PARAM["bias"].help)
        transposed = st.toggle(PARAM["transposed"].label, key="w_transposed", help=PARAM["transposed"].help)
        output_padding = _pair_slider(st, "output_padding", non_square, disabled=not transposed)
    new = LabConfig(in_channels, height, width, out_channels, kernel, stride,
                    padding if padding_kind == "number" else padding_kind, dilation, groups, bias, padding_mode,
                    transposed, output_padding)
    if new != config:
        st.session_state["config"] = new
        st.session_state["notices"] = []
    # Keep the controls hidden this run (square vs height/width) in step, for when the toggle flips.
    values = _widget_values(new)
    for name in _PAIRS:
        for key in ([f"w_{name}"] if non_square else [f"w_{name}_h", f"w_{name}_w"]):
            st.session_state[key] = values[key]
    write_url(new)
    return new


def show_notices(notices: list[str] | None = None) -> None:
    """Show what the URL asked for that could not be used, naming each value (default: the layer's notices)."""
    notices = st.session_state.get("notices", []) if notices is None else notices
    if len(notices) == 1:
        st.warning(f"Link setting not used — {notices[0]}", icon=":material/warning:")
    elif notices:
        st.warning("Link settings not used:\n" + "\n".join(f"- {notice}" for notice in notices),
                   icon=":material/warning:")


def show_config_error(exc: ConvConfigError) -> None:
    """An impossible configuration: what, why and the fix, in an error box (never a traceback)."""
    fix = f"  \n**Fix:** {exc.fix}" if exc.fix else ""
    st.error(f"**This layer cannot run — `{exc.param}`**: {exc.why}.{fix}", icon=":material/block:")


def apply_config(config: LabConfig) -> None:
    """Make `config` the shared configuration and move every control to it (use from a callback)."""
    st.session_state["config"] = config
    st.session_state["notices"] = []
    _seed_widgets(config)


def page_flag(key: str, label: str, help_text: str) -> bool:
    """A sidebar toggle mirrored in the URL as `key=1` (e.g. present=1), read on load."""
    widget = f"w_flag_{key}"
    url = url_options(f"flag_{key}", [key], [widget])
    if url is not None:
        st.session_state[widget] = url.get(key) == "1"
    value = st.sidebar.toggle(label, key=widget, help=help_text)
    write_url_options(f"flag_{key}", {key: "1"} if value else {})
    return value
