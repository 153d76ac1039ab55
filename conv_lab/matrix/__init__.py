"""Convolution as a matrix: the geometry of C, the runs that check it against torch, its pictures and texts.
Imports core and render, no other family."""
