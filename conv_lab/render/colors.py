"""Colour conversion, once: any matplotlib colour (a name, '#rrggbb', 0–1 floats) as 0–1 floats or 0–255 ints.

Every picture family (the sweep's palette, the matrix pictures, the padded-grid picture, the raster canvas)
names its colours as hex strings and converts them here.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colors


def rgb(colour) -> np.ndarray:
    """A matplotlib colour as an array of three 0–1 floats (alpha dropped), ready for numpy arithmetic.

    >>> rgb("#ff8000").tolist(), rgb("white").tolist()
    ([1.0, 0.5019607843137255, 0.0], [1.0, 1.0, 1.0])
    """
    return np.array(colors.to_rgb(colour))


def rgb8(colour) -> tuple[int, int, int]:
    """A matplotlib colour as three 0–255 ints (what Pillow and uint8 pixel arrays take).

    >>> rgb8("#ff0000"), rgb8((0, 0.5, 1)), rgb8("#b35900")
    ((255, 0, 0), (0, 128, 255), (179, 89, 0))
    """
    r, g, b = (int(round(255 * v)) for v in colors.to_rgb(colour))
    return r, g, b
