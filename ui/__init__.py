"""Streamlit helpers shared by the pages (kept out of pages/, which Streamlit would serve as pages).

Pages import from here: the layer controls and the shared configuration (`controls`), URL-synced
options (`url_sync`), notices and errors (`messages`), and running inside app.py's navigation
(`navigation`). Only this package and the pages import Streamlit; conv_lab never does.
"""

from ui.controls import apply_config, current_config, layer_controls
from ui.messages import show_config_error, show_notices
from ui.navigation import require_entry
from ui.url_sync import page_flag, url_options, write_url_options

__all__ = ["apply_config", "current_config", "layer_controls", "page_flag", "require_entry", "show_config_error",
           "show_notices", "url_options", "write_url_options"]
