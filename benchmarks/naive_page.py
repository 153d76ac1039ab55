"""Baseline for benchmarks/load.py: the naive URL-driven page issue #9 measures against.

It does on EVERY rerun what a first-draft Shape Lab would: read the URL, build a fresh
nn.Conv2d, run it on a random input, and draw the padded grid with matplotlib — no
caching shared across sessions, no caps. Run it on its own server:

    streamlit run benchmarks/naive_page.py --server.headless true --server.fileWatcherType none

`python benchmarks/load.py --baseline` starts it next to the real app and prints the ratio.
Deliberately not part of the app (and not registered in app.py).
"""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import streamlit as st  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


def _int(name: str, default: int, lo: int, hi: int) -> int:
    raw = st.query_params.get(name, str(default)).split("x")[-1]
    try:
        return min(max(int(raw), lo), hi)
    except ValueError:
        return default


raw_input = st.query_params.get("input", "3x32x32").split("x")
size = min(max(int(raw_input[-1]) if raw_input[-1].isdigit() else 32, 1), 128)
channels = min(max(int(raw_input[0]) if len(raw_input) == 3 and raw_input[0].isdigit() else 3, 1), 64)
filters = _int("filters", 16, 1, 128)
kernel = _int("kernel", 3, 1, 15)
stride = _int("stride", 1, 1, 8)
padding = _int("padding", 0, 0, 16)

st.title("Naive Shape Lab (baseline)")
layer = nn.Conv2d(channels, filters, kernel, stride=stride, padding=padding)
try:
    with torch.no_grad():
        y = layer(torch.randn(1, channels, size, size))
    st.code(f"torch.Size({list(y.shape)})")
    out = (size + 2 * padding - kernel) // stride + 1
    st.latex(rf"H_{{out}} = \lfloor ({size} + 2\cdot{padding} - {kernel}) / {stride} \rfloor + 1 = {out}")
except RuntimeError as exc:
    st.error(f"torch refused: {exc}")

side = size + 2 * padding
fig, ax = plt.subplots(figsize=(6, 6))
grid = [[1 if padding <= r < side - padding and padding <= c < side - padding else 0 for c in range(side)]
        for r in range(side)]
ax.imshow(grid, cmap="Blues", vmin=0, vmax=1.5)
ax.add_patch(plt.Rectangle((-0.5, -0.5), kernel, kernel, fill=False, color="orange", lw=3))
ax.set_xticks(range(side))
ax.set_yticks(range(side))
ax.tick_params(labelsize=5)
buffer = io.BytesIO()
fig.savefig(buffer, format="png", dpi=100)
plt.close(fig)
st.image(buffer.getvalue(), caption=f"padded input {side}×{side}, first {kernel}×{kernel} window")
