"""The network planner: the layer table, the shape flow by formula and by real torch layers, fixes, share-link
codec, code export and presets. Imports core only."""
