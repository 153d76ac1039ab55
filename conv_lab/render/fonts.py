"""The font cache, once: DejaVu Sans (regular and bold) from matplotlib's own data folder, so no download.

Streamlit serves its sessions from many threads at once, and a Pillow `FreeTypeFont` wraps one FreeType
face, which two threads must not use at the same time. So every thread keeps its own faces, keyed by
(size, bold): loading one costs ~1 ms once per thread and size, and no face is ever shared between threads.
"""

from __future__ import annotations

import threading
from pathlib import Path

import matplotlib
from PIL import ImageFont

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"  # shipped with matplotlib: works offline
FONT_FILES = {False: FONT_DIR / "DejaVuSans.ttf", True: FONT_DIR / "DejaVuSans-Bold.ttf"}
MIN_PX = 6  # smaller text is unreadable: asked-for sizes below this are drawn at it

_THREAD = threading.local()  # this thread's faces: {(px, bold): FreeTypeFont}


def font(px: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans (bold when asked) at `px` pixels, at least MIN_PX: cached per thread, never shared between threads.

    >>> font(14).size, font(14) is font(14), font(12, bold=True).getname(), font(2).size
    (14, True, ('DejaVu Sans', 'Bold'), 6)
    >>> import threading; elsewhere = []
    >>> worker = threading.Thread(target=lambda: elsewhere.append(font(14))); worker.start(); worker.join()
    >>> elsewhere[0] is font(14), elsewhere[0].size
    (False, 14)
    """
    faces = _THREAD.__dict__.setdefault("faces", {})
    key = (max(MIN_PX, int(px)), bool(bold))
    face = faces.get(key)
    if face is None:
        face = faces[key] = ImageFont.truetype(str(FONT_FILES[key[1]]), key[0])
    return face


def text_width(text: str, px: int, bold: bool = False) -> int:
    """Width in whole pixels (rounded up) of `text` drawn at `px`.

    >>> text_width("(0,0)", 15) > 20, text_width("", 15)
    (True, 0)
    """
    return int(font(px, bold).getlength(text) + 0.999)
