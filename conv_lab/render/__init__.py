"""Rendering infrastructure shared by the page families: the worker pool for heavy renders, a raster canvas,
fonts and colours. It imports only `conv_lab.limits`: no formula, no page family."""
