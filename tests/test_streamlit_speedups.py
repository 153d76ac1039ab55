"""ui.streamlit_speedups: Streamlit's new_session message is the same with the skip as without it."""

from __future__ import annotations

import pytest
import streamlit
from streamlit import config
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime import app_session

from ui import streamlit_speedups
from ui.streamlit_speedups import CHECKED_VERSION, restore_streamlit, skip_unset_theme_sections

from conftest import open_stream, rerun_messages, run_async, running_server

SECTIONS = ["theme", *(f"theme.{c.value}" for c in config.CustomThemeCategories)]


@pytest.fixture
def skipping():
    assert skip_unset_theme_sections()
    yield
    restore_streamlit()


def _theme_bytes(section: str) -> bytes:
    msg = ForwardMsg()
    app_session._populate_theme_msg(msg.new_session.custom_theme, section)
    return msg.SerializeToString()


def test_the_pinned_streamlit_is_the_checked_one():
    # Upgrading Streamlit turns the skip off: read _populate_theme_msg again, then move CHECKED_VERSION.
    assert streamlit.__version__ == CHECKED_VERSION


def test_sections_match_streamlits_own_with_and_without_a_theme(skipping):
    original = app_session._populate_theme_msg.streamlit_original
    for _ in range(2):  # the first call finds a section unset, the second skips it
        for section in SECTIONS:
            expected = ForwardMsg()
            original(expected.new_session.custom_theme, section)
            assert _theme_bytes(section) == expected.SerializeToString(), section
    assert streamlit_speedups._unset_sections  # the skip is in use: Conv Lab sets no theme
    try:  # a config parsed again with a theme set: the skip forgets what it knew and Streamlit fills it in
        config.get_config_options(force_reparse=True, options_from_flags={"theme.primaryColor": "#123456",
                                                                          "theme.dark.textColor": "#abcdef"})
        msg = ForwardMsg()
        for section in SECTIONS:
            app_session._populate_theme_msg(getattr_path(msg.new_session.custom_theme, section), section)
        assert msg.new_session.custom_theme.primary_color == "#123456"
        assert msg.new_session.custom_theme.dark.text_color == "#abcdef"
    finally:
        config.get_config_options(force_reparse=True)
    assert config.get_option("theme.primaryColor") is None and _theme_bytes("theme") == b""  # parsed back: unset


def getattr_path(theme, section: str):
    """The sub-message of `custom_theme` a section fills ('theme.dark.sidebar' → custom_theme.dark.sidebar)."""
    for part in section.split(".")[1:]:
        theme = getattr(theme, part)
    return theme


def test_restore_puts_streamlits_function_back(skipping):
    patched = app_session._populate_theme_msg
    assert skip_unset_theme_sections() and app_session._populate_theme_msg is patched  # installed once
    restore_streamlit()
    assert not hasattr(app_session._populate_theme_msg, "streamlit_original")


async def _second_run_theme(url: str):
    """custom_theme of a session's second run's new_session (app.py installed the skip in the first run)."""
    ws = await open_stream(url)
    try:
        runs = [[fwd async for fwd in rerun_messages(ws)] for _ in range(2)]
    finally:
        await ws.close()
    return next(fwd.new_session.custom_theme for fwd in runs[1] if fwd.WhichOneof("type") == "new_session")


def test_a_running_server_sends_the_theme_it_was_given():
    """A server started with a theme still sends it on every run (the skip only skips unset sections)."""
    with running_server(options=["theme.primaryColor=#123456"], timeout=90) as (url, _):
        theme = run_async(_second_run_theme(url))
    assert theme.primary_color == "#123456"


def test_a_running_server_without_a_theme_sends_none(server_url):
    assert run_async(_second_run_theme(server_url)).SerializeToString() == b""
