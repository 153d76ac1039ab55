"""The one "Copy link" box: a link that reopens exactly what is shown, mode flags and page options included."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

import streamlit as st

from conv_lab.core.options import option_keys
from conv_lab.core.state import FLAG_OPTIONS, LabConfig, share_query_string
from conv_lab.render.markdown_blocks import fenced
from ui.url_sync import url_now


def page_url() -> str:
    """This page's address without its query (what a share link starts with)."""
    parts = urlsplit(st.context.url or "")
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))


def layer_share_query(config: LabConfig, page_keys: Iterable[str] = ()) -> str:
    """The query of a link to `config`, keeping the page's flags (present, predict) and options now in the URL."""
    keys, url = (*option_keys(FLAG_OPTIONS), *page_keys), url_now()
    return share_query_string(config, **{k: url.get(k) for k in keys})


def mode_flags() -> dict[str, str]:
    """The mode flags on now, as the URL holds them (present=1, predict=1): every share link keeps them."""
    url = url_now()
    return {key: value for key in option_keys(FLAG_OPTIONS) if (value := url.get(key))}


def share_box(query: str, what: str = "exactly this configuration", title: str = "Copy link") -> None:
    """Show the link (page address + `query`) in a code box with Streamlit's copy icon, as one element."""
    st.markdown(f"**{title}** — opens {what} (copy icon at the right of the box):\n\n{fenced(f'{page_url()}?{query}')}")
