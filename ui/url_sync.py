"""URL-synced options: one mechanism for the layer config, every page's options and page flags.

A rerun carries the URL the browser showed when the event was sent; after quick presses that is often our
previous write, not yet applied in the browser. Comparing "URL != what we last wrote" would then adopt the
stale URL and undo the newest presses. Rule: if any control changed since the last run, the controls win;
if none changed, a URL that differs from our last write is adopted (a deep link, the back button).
Each group (name) remembers in session state its URL keys, its last write and its controls' values then.
"""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

_MISSING = object()


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
    url = url_now()
    in_url = {k: url[k] for k in entry["keys"] if k in url}
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
    url = url_now()
    for key in entry["keys"]:
        if key not in wanted and key in url:
            del st.query_params[key]
    # Also when only our last write differs: the browser holds that one, not the (older) URL this run carries.
    if wanted != entry.get("written", wanted) or any(url.get(k) != v for k, v in wanted.items()):
        st.query_params.update(wanted)
    entry["written"] = dict(wanted)
    # One session-state read per control (`k in state` then `state[k]` were two, each ~10 µs through the proxy).
    seen = ((k, st.session_state.get(k, _MISSING)) for k in entry["widgets"])
    entry["seen"] = {k: value for k, value in seen if value is not _MISSING}


def url_now() -> dict[str, str]:
    """The URL's query as {key: last value}, read in one go: each `st.query_params` lookup takes Streamlit's lock and
    costs ~40–65 µs (a missing key raises inside it), and a Shape Lab run made ~40 of them (issue 17).

    >>> isinstance(url_now(), dict)
    True
    """
    return st.query_params.to_dict()


def controls_moved() -> bool:
    """True when a control of any group holds another value than at that group's last write."""
    # .get(key, value): one session-state read per control; an absent control counts as not moved, as before.
    return any(st.session_state.get(key, value) != value
               for entry in st.session_state.get("_url_options", {}).values()
               for key, value in entry.get("seen", {}).items())


def _moved_this_run() -> bool:
    """Whether a control moved, as decided at the start of this run (before any group renewed its snapshot)."""
    moved = st.session_state.get("_moved_this_run")
    return controls_moved() if moved is None else moved




def page_flag(key: str, label: str, help_text: str, container=None) -> bool:
    """A sidebar toggle mirrored in the URL as `key=1` (e.g. present=1), read on load (container: elsewhere, e.g. a
    phone's inline row)."""
    widget = f"w_flag_{key}"
    url = url_options(f"flag_{key}", [key], [widget])
    if url is not None:
        st.session_state[widget] = url.get(key) == "1"
    value = (container or st.sidebar).toggle(label, key=widget, help=help_text)
    write_url_options(f"flag_{key}", {key: "1"} if value else {})
    return value
