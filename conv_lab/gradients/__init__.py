"""The backward pass of a conv layer, computed the way the /gradients page explains it, and receptive fields.

Imports `core` only (torch is loaded by `engine`; `receptive` re-exports `core.receptive`, shared with the planner).
"""
