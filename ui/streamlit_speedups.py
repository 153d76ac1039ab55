"""Streamlit's own per-rerun work that finds the same answer every time, done once (issue 17).

At the start of every rerun Streamlit builds a `new_session` message, and for each of its six theme sections
(`theme`, `theme.light`, …, `theme.dark.sidebar`) it scans every config option for that section's values. Conv Lab
sets no theme, so each scan finds nothing set: ~0.6 ms of the server's interpreter per rerun, 3–4 % of a Shape Lab
rerun, in the event loop that sends every student's page. `skip_unset_theme_sections()` remembers which sections
have nothing set and skips their scan until Streamlit parses its config again; a section with a value set is still
filled in by Streamlit itself. It patches one private function, so it applies only to the Streamlit version it was
checked against; tests/test_streamlit_speedups.py builds the message with and without it and compares the bytes.
"""

from __future__ import annotations

import streamlit
from streamlit import config
from streamlit.runtime import app_session

CHECKED_VERSION = "1.67.0"  # requirements.txt pins it; on another version Streamlit runs unchanged
_unset_sections: set[str] = set()
_disconnect: list = []  # config.on_config_parsed's handle, while installed


def _forget_unset_sections() -> None:
    _unset_sections.clear()


def _skipping_unset(populate):
    """Streamlit's `_populate_theme_msg`, returning at once for a section known to have nothing set."""

    def populate_theme_msg(msg, section: str = "theme") -> None:
        if section in _unset_sections:
            return
        if all(value is None for value in config.get_options_for_section(section).values()):
            _unset_sections.add(section)  # Streamlit's own early return: the message stays untouched
            return
        populate(msg, section)

    populate_theme_msg.streamlit_original = populate
    return populate_theme_msg


def skip_unset_theme_sections() -> bool:
    """Install the skip once per process (later calls do nothing); False on an unchecked Streamlit version.

    >>> skip_unset_theme_sections() == (streamlit.__version__ == CHECKED_VERSION)
    True
    """
    if streamlit.__version__ != CHECKED_VERSION:
        return False
    if not hasattr(app_session._populate_theme_msg, "streamlit_original"):
        app_session._populate_theme_msg = _skipping_unset(app_session._populate_theme_msg)
        # A config parsed again (another config file, options set on the command line) may set a theme.
        _disconnect.append(config.on_config_parsed(_forget_unset_sections, force_connect=True))
    return True


def restore_streamlit() -> None:
    """Undo `skip_unset_theme_sections` (for tests).

    >>> restore_streamlit(); hasattr(app_session._populate_theme_msg, "streamlit_original")
    False
    """
    original = getattr(app_session._populate_theme_msg, "streamlit_original", None)
    if original is not None:
        app_session._populate_theme_msg = original
    while _disconnect:
        _disconnect.pop()()
    _forget_unset_sections()
