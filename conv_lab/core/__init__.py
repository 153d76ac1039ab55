"""The core every page family builds on: errors, the parameter table, the formula, the real torch run, URL state.

Imports run downward only: options → errors → params → spec → shapes → receptive → torch_run → state. Nothing here
imports a page family (sweep, matrix, features, network, practice) or Streamlit.
"""
