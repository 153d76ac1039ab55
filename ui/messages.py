"""What the pages say when a link or a layer cannot be used: notices naming each value, errors with their fix."""

from __future__ import annotations

import streamlit as st

from conv_lab.core.errors import ConvConfigError


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
