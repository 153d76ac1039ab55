"""Feature maps: sample pictures and guarded uploads, filter banks, the real run, and its figures.
Imports core and render, no other family."""
