"""The configured layer drawn as blocks: input volume ∗ a few filters = output volume, one output slice per filter.

2-D tensors are C×H×W boxes with the channels as depth; 1-D tensors are flat C×L slabs with one row per channel;
3-D tensors are D×H×W volumes, a few stacked one behind another for the channels. Sizes are to scale (one scale
for the spatial sizes, one for the channels) until a part would be too thin to see: then that scale becomes a
power scale (bigger stays bigger) and a note says the drawing is compressed. Groups colour each drawn group's
channel slab in the input, its filters and their output slices, and name them in text. Drawn with Pillow
(`block_shapes`): ~4-5 ms per new layer, where a matplotlib figure costs 50-100 ms (benchmarks/blocks_picture.py).
"""

from __future__ import annotations

import math
from functools import lru_cache

from conv_lab.lab.block_shapes import INPUT_FILL, OUTPUT_FILL, RGB, STRONG, Band, Painter, Part, text_size, tint

SIDE = {1: 240, 2: 150, 3: 110}  # px of the largest spatial size (length; height/width; depth/height/width)
CELL = {1: 16, 2: 18, 3: 14}  # px per cell at most (small inputs do not become huge)
CHANNELS_PX, CHANNEL_PX = 110, 10  # px of the largest channel count (depth or height), and per channel at most
# least px of (a tensor's side, a kernel's side, a channel count): smaller sizes switch to a power scale
LEAST = {1: (24, 8, 8), 2: (20, 6, 4), 3: (20, 12, 4)}
LEAST_BAND = 5  # px of a one-channel band at least (thinner ones are widened, with a note)
FILTERS_DRAWN = {1: 4, 2: 4, 3: 3}
COPIES = 3  # 3-D: channel volumes drawn per tensor
FILTERS_HEIGHT = 380  # px the filter column may take
PX, TITLE_PX, SYMBOL_PX, GAP, MARGIN, LINE = 15, 16, 26, 54, 16, 21


def _shape(values: tuple[int, ...]) -> str:
    return "×".join(str(v) for v in values)


def _span(a: int, b: int) -> str:
    return f"{a + 1}" if b == a + 1 else f"{a + 1}–{b}"


class Scale:
    """px = top·(n/largest)^power: linear (power 1) unless a size would be under its least px, then compressed.

    >>> Scale([(30, 6), (3, 6)], 150, 18).px(3), round(Scale([(1024, 6), (3, 6)], 150, 18).px(3), 6)
    (15.0, 6.0)
    """

    def __init__(self, sizes: list[tuple[int, float]], span: float, most: float):
        self.largest = max(n for n, _ in sizes)
        self.top = min(span, self.largest * most)
        self.power = min([1.0] + [math.log(least / self.top) / math.log(n / self.largest) for n, least in sizes
                                  if n < self.largest and self.top * n / self.largest < least < self.top])
        self.compressed = self.power < 1.0

    def px(self, n: float, least: float = 0.0) -> float:
        """`n` units in px (never below `least`)."""
        return max(least, self.top * (n / self.largest) ** self.power) if n > 0 else 0.0


def _bands(spans: list[tuple[int, int, RGB]], depth: Scale, widened: set) -> list[Band]:
    """Channel spans [a, b) as px bands, at least LEAST_BAND wide, a strong band pushed back not to hide the last."""
    bands, end = [], 0.0
    for a, b, colour in spans:
        start = max(depth.px(a), end if colour in STRONG else 0.0)
        stop = max(depth.px(b), start + LEAST_BAND)
        if stop - start > depth.px(b) - depth.px(a) + 0.5:
            widened.add("thin channel bands")
        bands.append((start, stop, colour))
        end = stop if colour in STRONG else end
    return bands


def _tensor(dims: int, channels: int, size: tuple[int, ...], scales: tuple[Scale, Scale], base: RGB,
            spans: list[tuple[int, int, RGB]], copies: list[RGB], least: float, widened: set) -> Part:
    """A tensor of `channels` × `size` as a Part: a slab (1-D), a box (2-D) or a stack of volumes (3-D)."""
    space, depth = scales
    sides = [space.px(n, least) for n in size]
    thick = depth.px(channels, LEAST[dims][2])
    lines = channels if 1 < channels <= 32 and thick / channels >= 5 else 0
    if dims == 1:
        return Part("slab", sides[0], thick, base=base, bands=_bands(spans, depth, widened), lines=lines)
    if dims == 3:
        return Part("stack", sides[2], sides[1], sides[0], base=base, copies=copies or [base])
    return Part("box", sides[1], sides[0], thick, base=base, bands=_bands(spans, depth, widened), lines=lines)


def _chosen_filters(out_channels: int, groups: int, cap: int) -> list[int]:
    """Which filters to draw: the first of each of the first groups, more per group when there are few groups.

    >>> _chosen_filters(16, 1, 4), _chosen_filters(16, 2, 4), _chosen_filters(32, 32, 4)
    ([0, 1, 2, 3], [0, 1, 8, 9], [0, 1, 2, 3])
    """
    per_group = out_channels // groups
    shown = min(groups, cap)
    each = max(1, min(per_group, cap // shown))
    return [g * per_group + j for g in range(shown) for j in range(each)]


def caption_text(in_channels: int, out_channels: int, groups: int, kernel: tuple[int, ...], input_size: tuple[int, ...],
                 output_size: tuple[int, ...], transposed: bool = False) -> str:
    """The plain-language caption of the picture.

    >>> caption_text(3, 16, 1, (3, 3), (32, 32), (30, 30))
    'Conv2d: input 3×32×32 volume, 16 filters of 3×3×3, output 16×30×30; each filter makes one output slice'
    """
    dims, per_group = len(kernel), in_channels // groups
    module = f"{'ConvTranspose' if transposed else 'Conv'}{dims}d"
    noun, axes = {1: ("slab", " (channels × length)"), 2: ("volume", ""),
                  3: ("", " (channels × depth × height × width)")}[dims]
    piece = {1: "row", 2: "slice", 3: "volume"}[dims]
    filters = f"{out_channels} filter{'s' if out_channels != 1 else ''} of {_shape((per_group, *kernel))}"
    if groups > 1:
        kind = "depthwise, " if per_group == 1 else ""
        reads = f"{per_group} channel" if per_group == 1 else f"{per_group} of the {in_channels} channels"
        filters += f" ({kind}groups={groups}: each filter reads {reads})"
    text = (f"{module}: input {_shape((in_channels, *input_size))}{' ' + noun if noun else ''}{axes}, {filters}, "
            f"output {_shape((out_channels, *output_size))}; each filter makes one output {piece}")
    if transposed:
        text += "; transposed, so the output is bigger than the input"
    return text


def _filter_rows(kernel: tuple[int, ...], c_out: int, groups: int, per_in: int, chosen: list[int], colour: list[RGB],
                 scales: tuple[Scale, Scale], least: float, widened: set) -> list:
    """The filter column: a part and a label per drawn filter (as many as fit), then how many are not drawn."""
    rows, height, per_out, dims = [], 0.0, c_out // groups, len(kernel)
    for f, c in zip(chosen, colour):
        part = _tensor(dims, per_in, kernel, scales, c, [], [c] * min(per_in, COPIES), least, widened)
        label = f"filter {f + 1}" + (f" · ch {_span((f // per_out) * per_in, (f // per_out + 1) * per_in)}"
                                     if groups > 1 else "")
        if rows and height + part.size[1] + LINE + 10 > FILTERS_HEIGHT:
            break
        rows += [part, (label, None)]
        height += part.size[1] + LINE + 10
    if c_out > len(rows) // 2:
        rows.append((f"+ {c_out - len(rows) // 2} more filter{'s' if c_out - len(rows) // 2 != 1 else ''}", None))
    return rows


def _columns(c_in: int, c_out: int, groups: int, kernel: tuple[int, ...], size_in: tuple[int, ...],
             size_out: tuple[int, ...], transposed: bool) -> tuple[list, list[str], list[str]]:
    """The three columns (header lines, then rows of parts and labels), the notes, and what was enlarged."""
    dims, per_in, per_out = len(kernel), c_in // groups, c_out // groups
    tensor_least, kernel_least, channel_least = LEAST[dims]
    space = Scale([(n, tensor_least) for n in size_in + size_out] + [(k, kernel_least) for k in kernel], SIDE[dims],
                  CELL[dims])
    depth = Scale([(c, channel_least) for c in (c_in, c_out, per_in)], CHANNELS_PX, CHANNEL_PX)
    scales, widened = (space, depth), set()
    chosen = _chosen_filters(c_out, groups, FILTERS_DRAWN[dims])
    colour = [STRONG[min(f // per_out, 3)] if groups > 1 else STRONG[i] for i, f in enumerate(chosen)]
    filters = _filter_rows(kernel, c_out, groups, per_in, chosen, colour, scales, kernel_least, widened)
    chosen, colour = chosen[:len(filters) // 2], colour[:len(filters) // 2]
    shown_groups = sorted({f // per_out for f in chosen}) if groups > 1 else []
    in_spans = [(g * per_in, (g + 1) * per_in, STRONG[g]) for g in shown_groups]
    out_spans = [(g * per_out, (g + 1) * per_out, tint(STRONG[g])) for g in shown_groups]
    out_spans += [(f, f + 1, c) for f, c in zip(chosen, colour)]
    in_copies = [STRONG[g] for g in shown_groups][:COPIES] or [INPUT_FILL] * min(c_in, COPIES)
    out_copies = (colour + [OUTPUT_FILL] * COPIES)[:min(c_out, COPIES)]
    word = {1: "row", 2: "slice", 3: "volume"}[dims]
    head_in = ["Input", _shape((c_in, *size_in))]
    head_out = ["Output", _shape((c_out, *size_out))]
    head_filters = [f"{c_out} filter{'s' if c_out != 1 else ''}", "each " + _shape((per_in, *kernel))]
    inputs = [_tensor(dims, c_in, size_in, scales, INPUT_FILL, in_spans, in_copies, tensor_least, widened)]
    inputs += [(f"ch {_span(g * per_in, (g + 1) * per_in)} → group {g + 1}", STRONG[g]) for g in shown_groups]
    if dims == 3:
        inputs.append((f"{c_in} channel volume{'s' if c_in != 1 else ''}", None))
    outputs = [_tensor(dims, c_out, size_out, scales, OUTPUT_FILL, out_spans, out_copies, tensor_least, widened)]
    outputs += [(f"{word} {f + 1} ← filter {f + 1}", c) for f, c in zip(chosen, colour)]
    if dims == 3:
        outputs.append((f"{c_out} output volume{'s' if c_out != 1 else ''}", None))
    notes = []
    if groups > 1:
        reads = "1 input channel" if per_in == 1 else f"only its group's {per_in} of the {c_in} channels"
        notes.append(f"{'Depthwise, ' if per_in == 1 else ''}groups={groups}: each filter reads {reads}")
    else:
        reads = "the 1 input channel" if c_in == 1 else f"all {c_in} input channels"
        notes.append(f"Every filter reads {reads} and makes one output {word}")
    if transposed:
        notes.append("ConvTranspose: each input cell spreads a kernel-sized stamp, so the output is bigger")
    squeezed = [name for name, scale in (("sizes", space), ("channel counts", depth))
                if scale.compressed and (scale is space or dims != 3)]  # 3-D draws a few channel volumes, unscaled
    squeezed = [" and ".join(squeezed) + " compressed"] if squeezed else []
    squeezed += [", ".join(sorted(widened)) + " widened"] if widened and dims != 3 else []
    if squeezed:
        notes.append("Not to scale: " + "; ".join(squeezed) + " so small parts stay visible")
    return [(head_in, inputs), (head_filters, filters), (head_out, outputs)], notes, squeezed


def _row_size(row) -> tuple[float, float]:
    if isinstance(row, Part):
        width, height = row.size
        return width, height + 8
    text, swatch = row
    return text_size(text, PX)[0] + (20 if swatch else 0), LINE


def _render(c_in: int, c_out: int, groups: int, kernel: tuple[int, ...], size_in: tuple[int, ...],
            size_out: tuple[int, ...], transposed: bool) -> tuple[bytes, str]:
    columns, notes, enlarged = _columns(c_in, c_out, groups, kernel, size_in, size_out, transposed)
    widths = [max([text_size(h, TITLE_PX, True)[0] for h in head] + [_row_size(r)[0] for r in rows])
              for head, rows in columns]
    heights = [sum(_row_size(r)[1] for r in rows) for _, rows in columns]
    body = max(heights)
    width = max(2 * MARGIN + sum(widths) + 2 * GAP, 2 * MARGIN + max(text_size(n, PX)[0] for n in notes))
    top = MARGIN + LINE + 10
    height = top + 2 * LINE + 8 + body + 10 + LINE * len(notes) + MARGIN
    painter = Painter(width, height)
    module = f"{'ConvTranspose' if transposed else 'Conv'}{len(kernel)}d"
    painter.text(MARGIN, MARGIN, f"{module}: {c_in} → {c_out} channels, kernel {_shape(kernel)}"
                 + (f", groups={groups}" if groups > 1 else ""), TITLE_PX, bold=True)
    x = MARGIN + (width - 2 * MARGIN - sum(widths) - 2 * GAP) / 2
    middle = top + 2 * LINE + 8 + body / 2
    for i, ((head, rows), col_w, col_h) in enumerate(zip(columns, widths, heights)):
        painter.text(x + col_w / 2, top, head[0], TITLE_PX, bold=True, anchor="m")
        painter.text(x + col_w / 2, top + LINE, head[1], PX, anchor="m")
        y = middle - col_h / 2
        for row in rows:
            row_w, row_h = _row_size(row)
            if isinstance(row, Part):
                row.paint(painter, x + (col_w - row_w) / 2, y)
            else:
                left = x + (col_w - row_w) / 2
                if row[1]:
                    painter.swatch(left, y + 2, row[1])
                painter.text(left + (20 if row[1] else 0), y, row[0], PX)
            y += row_h
        if i < 2:
            symbol = "→" if transposed else ("∗", "=")[i]
            painter.text(x + col_w + GAP / 2, middle - SYMBOL_PX * 0.65, symbol, SYMBOL_PX, bold=True, anchor="m")
        x += col_w + GAP
    y = top + 2 * LINE + 8 + body + 10
    for note in notes:
        painter.text(MARGIN, y, note, PX)
        y += LINE
    caption = caption_text(c_in, c_out, groups, kernel, size_in, size_out, transposed)
    drawn = sum(isinstance(r, Part) for r in columns[1][1])
    if drawn < c_out:
        caption += f". {drawn} of the {c_out} filters are drawn"
    if enlarged:
        caption += ". Not to scale: " + "; ".join(enlarged) + " so small parts stay visible"
    return painter.png(), caption


@lru_cache(maxsize=256)
def _cached(c_in: int, c_out: int, groups: int, kernel: tuple[int, ...], size_in: tuple[int, ...],
            size_out: tuple[int, ...], transposed: bool) -> tuple[bytes, str]:
    return _render(c_in, c_out, groups, kernel, size_in, size_out, transposed)


def _whole(values, name: str) -> tuple[int, ...]:
    try:
        values = tuple(values)
    except TypeError:
        raise ValueError(f"{name} must be a tuple of whole numbers, got {values!r}") from None
    if not values or any(isinstance(v, bool) or int(v) != v or v < 1 for v in values):
        raise ValueError(f"{name} must be whole numbers ≥ 1, got {values}")
    return tuple(int(v) for v in values)


def layer_blocks_png(in_channels: int, out_channels: int, groups: int, kernel: tuple[int, ...],
                     input_size: tuple[int, ...], output_size: tuple[int, ...],
                     transposed: bool = False) -> tuple[bytes, str]:
    """PNG of the layer as blocks (input, drawn filters, output) and its caption; cached on the arguments.

    >>> png, caption = layer_blocks_png(3, 16, 1, (3, 3), (32, 32), (30, 30))
    >>> png[:4] == b"\\x89PNG", caption.split(";")[0]
    (True, 'Conv2d: input 3×32×32 volume, 16 filters of 3×3×3, output 16×30×30')
    """
    c_in, c_out, g = _whole((in_channels, out_channels, groups), "in_channels, out_channels and groups")
    kernel, size_in, size_out = (_whole(v, n) for v, n in ((kernel, "kernel"), (input_size, "input_size"),
                                                            (output_size, "output_size")))
    if len(kernel) not in (1, 2, 3) or len(size_in) != len(kernel) or len(size_out) != len(kernel):
        raise ValueError(f"kernel, input_size and output_size need 1, 2 or 3 entries each (the same number), got "
                         f"{len(kernel)}, {len(size_in)} and {len(size_out)}")
    if c_in % g or c_out % g:
        raise ValueError(f"groups={g} must divide in_channels={c_in} and out_channels={c_out}")
    return _cached(c_in, c_out, g, kernel, size_in, size_out, bool(transposed))
