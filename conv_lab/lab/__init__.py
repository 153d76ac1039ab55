"""What the Shape Lab shows beyond the core: its presets and the padded-grid picture (imports core and render)."""
