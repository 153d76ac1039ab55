"""The words on a sweep animation: its title line and the grid's and output's captions, for 1-D, 2-D and 3-D layers."""

from __future__ import annotations

from conv_lab.core.grid import INSERTED, PADDING, axis_placement
from conv_lab.core.params import fmt
from conv_lab.sweep.data import SweepRequest, step_lines
from conv_lab.sweep.steps import Region, Sweep


def _sides(pairs) -> str:
    """Padding per dimension: one number when every side agrees, else before/after per dimension."""
    if len({side for pair in pairs for side in pair}) == 1:
        return str(pairs[0][0])
    return "×".join(str(b) if b == a else f"{b}/{a}" for b, a in pairs)


def _one(sizes: tuple[int, ...]) -> str:
    """One number when every dimension agrees, else d×h×w."""
    return str(sizes[0]) if len(set(sizes)) == 1 else fmt(sizes)


def describe(request: SweepRequest) -> str:
    """The title line of an animation.

    >>> from conv_lab.core.state import LabConfig
    >>> describe(SweepRequest(LabConfig(1, 5, 5, 1, padding=(1, 1))))
    'Conv2d 1→1, kernel 3×3, stride 1×1, padding 1/1/1/1 zeros · filter 0'
    >>> describe(SweepRequest(LabConfig(1, 3, 3, 1, stride=(2, 2), padding=(1, 1), transposed=True,
    ...                                 output_padding=(1, 1))))
    'ConvTranspose2d 1→1, kernel 3×3, stride 2×2, padding 1, output_padding 1 → grid padding 1/2/1/2 (t/b/l/r) · filter 0'
    >>> describe(SweepRequest(LabConfig(1, 1, 12, 1, (3,), (1,), "causal", (2,), output_padding=(0,), dims=1)))
    'Conv1d 1→1, kernel 3, stride 1, padding causal 4 (left), dilation 2 · filter 0'
    """
    c = request.config
    if request.op != "conv":
        pool = request.pool_spec()
        extra = ", ceil_mode" if pool.ceil_mode else ""
        if pool.dims == 1:
            return (f"{pool.module_name} {pool.kernel_size[1]}, stride {pool.stride[1]}, padding {pool.padding[1]}"
                    f"{extra} · channel {request.filter_index}")
        return (f"{pool.module_name} {pool.kernel_size[0]}×{pool.kernel_size[1]}, stride {pool.stride[0]}×{pool.stride[1]}, "
                f"padding {pool.padding[0]}×{pool.padding[1]}{extra} · channel {request.filter_index}")
    spec = c.spec()
    kind = f"{spec.module_name} {spec.in_channels}→{spec.out_channels}"
    mode = "" if spec.transposed else f" {spec.padding_mode}"
    extra = f", groups {spec.groups}" if spec.groups > 1 else ""
    if spec.dims == 2:
        pads = "/".join(str(p) for p in spec.pads())
        if spec.transposed:  # the grid's own padding: d·(k−1)−p per side, output_padding after
            (_, top, bottom), (_, left, right) = (axis_placement(spec, axis, 1) for axis in (0, 1))
            pads = _one((spec.pads()[0], spec.pads()[2]))
            pads += (f", output_padding {_one(spec.output_padding_hw)}" if any(spec.output_padding_hw) else "") + \
                f" → grid padding {top}/{bottom}/{left}/{right} (t/b/l/r)"
        extra = (f", dilation {spec.dilation_hw[0]}×{spec.dilation_hw[1]}" if spec.dilation_hw != (1, 1) else "") + extra
        return (f"{kind}, kernel {spec.kernel_hw[0]}×{spec.kernel_hw[1]}, stride {spec.stride_hw[0]}×{spec.stride_hw[1]}, "
                f"padding {pads}{mode}{extra} · filter {request.filter_index}")
    pads = f"causal {spec.pad_pairs()[0][0]} (left)" if spec.padding == "causal" else _sides(spec.pad_pairs())
    mode = "" if spec.padding == "causal" else mode
    if spec.dilation_nd != (1,) * spec.dims:
        extra = f", dilation {_one(spec.dilation_nd)}" + extra
    return (f"{kind}, kernel {fmt(spec.kernel_nd)}, stride {_one(spec.stride_nd)}, padding {pads}{mode}{extra} · "
            f"filter {request.filter_index}")


def grid_caption(animation) -> str:
    """What the drawn grid is: the whole padded input (a strip, a plane, or depth slices) or the region's part of it."""
    s, (g0, g1), (c0, c1) = animation.sweep, animation.grid_rows, animation.grid_cols
    full = (g1 - g0, c1 - c0) == s.grid.shape[1:]
    front = s.channels[animation.front]
    channels = len(dict.fromkeys(s.channels))
    what = {"conv": s.labels.grid, "max": "padded input (−∞ padding)", "avg": "padded input (zero padding)"}[s.op]
    if s.source_dims == 1:
        row = s.kinds[0]
        left = int((row == PADDING).argmin()) if (row != PADDING).any() else len(row)
        right = len(row) - left - int((row[left:] != PADDING).sum())
        channel = f", ch {front}" + (f" of {channels} stacked" if channels > 1 else "")
        if full:
            return f"{what}: a {c1 - c0}-cell strip ({left} padding left, {right} right){channel}"
        return f"cells {c0}–{c1 - 1} of the {s.grid.shape[2]}-cell padded strip{channel}"
    if s.source_dims == 3:
        shown = animation.rows_shown
        slices = f"d{s.slices[shown[0] % s.depth_taps]}–d{s.slices[shown[-1] % s.depth_taps]}"
        where = f"{g1 - g0}×{c1 - c0}" if full else f"rows {g0}–{g1 - 1}, cols {c0}–{c1 - 1}"
        return (f"{where} of depth slices {slices} (of {len(s.depth_kinds)} padded), ch {front}"
                + (f"/{channels}" if channels > 1 else ""))
    if full:
        stacked = f" (of {len(s.channels)} stacked)" if len(s.channels) > 1 else ""
        return f"{what} {g1 - g0}×{c1 - c0}, channel {front}{stacked}"
    channel = f", ch {front}" + (f"/{len(s.channels)}" if len(s.channels) > 1 else "")
    return f"rows {g0}–{g1 - 1}, cols {c0}–{c1 - 1} of the {s.grid.shape[1]}×{s.grid.shape[2]} grid{channel}"


def output_caption(sweep: Sweep, region: Region) -> str:
    """The output panel's caption: its size, and the region's part of it when the sweep is split.

    >>> from conv_lab.sweep.data import build_sweep
    >>> from conv_lab.core.state import LabConfig
    >>> output_caption(build_sweep(SweepRequest(LabConfig(1, 5, 5, 1))), Region((0, 3), (1, 2)))
    'output 3×3: rows 0–2, cols 1–1'
    """
    ho, wo = sweep.out_shape
    whole = region.size == ho * wo
    if sweep.source_dims == 1:
        return f"output: {wo} positions" + ("" if whole else f", {region.cols[0]}–{region.cols[1] - 1} here")
    part = "" if whole else f": rows {region.rows[0]}–{region.rows[1] - 1}, cols {region.cols[0]}–{region.cols[1] - 1}"
    if sweep.source_dims == 3:
        return f"output depth {sweep.out_depth} of 0–{sweep.out_depths - 1}, {ho}×{wo}{part}"
    return f"{sweep.labels.output} {ho}×{wo}{part}"  # a backward sweep builds x.grad, not an output


def slice_note(sweep: Sweep, row: int) -> str:
    """' (padding)' or ' (zeros inserted)' for a depth slice that holds no input, else ''."""
    kind = sweep.depth_kinds[sweep.slices[row % sweep.depth_taps]]
    return {PADDING: " (padding)", INSERTED: " (inserted zeros)"}.get(int(kind), "")



HTML_CHANNELS, HTML_TERMS = 4, 25  # the player's HTML arithmetic: channels and products shown per step (page size)


def done_lines(animation) -> list[str]:
    """The end state's words: how many positions were computed, and the grid cells no tap read."""
    s = animation.sweep
    never = ~s.touched()[slice(*animation.grid_rows), slice(*animation.grid_cols)]
    count = int(never.sum())
    return [f"Done: {len(animation.positions)} output positions computed.",
            f"{count} grid cells shown in red were never read by any kernel tap." if count else
            "Every cell of the grid was read by at least one kernel tap."]


def step_text(animation, t: int) -> list[str]:
    """The arithmetic of frame t as the player's HTML shows it (the end frame: `done_lines`).

    >>> from conv_lab.sweep.animate import sweep_animation
    >>> from conv_lab.core.state import LabConfig
    >>> step_text(sweep_animation(SweepRequest(LabConfig(1, 3, 3, 1, kernel_size=(2, 2), bias=False))), 0)
    ['output (0, 0) = Σ input × weight', 'ch 0: 5×2 + 8×(−2) + 5×(−1) + 3×0 = −11', 'result: −11']
    """
    s = animation.sweep
    if t >= len(animation.positions):
        return done_lines(animation)
    row, col = animation.positions[t]
    index = row * s.out_shape[1] + col
    part = [] if len(animation.positions) == len(s) else [f"(position {index + 1} of {len(s)} of the whole sweep)"]
    return step_lines(s, index, animation.values, HTML_CHANNELS, HTML_TERMS) + part


def part_label(sweep: Sweep, region: Region, parts: int, index: int) -> str:
    """What the animated part of a large sweep covers, for the caption under the part control.

    >>> from conv_lab.sweep.data import build_sweep
    >>> from conv_lab.core.state import LabConfig
    >>> part_label(build_sweep(SweepRequest(LabConfig(1, 5, 5, 1))), Region((0, 1), (0, 3)), 3, 1)
    'Part 1 of 3: output row 0, cols 0–2 (steps 1–3 of 9).'
    """
    wo = sweep.out_shape[1]
    (r0, r1), (c0, c1) = region.rows, region.cols
    first, last = r0 * wo + c0 + 1, (r1 - 1) * wo + c1
    if sweep.source_dims == 1:
        where = f"outputs {c0}–{c1 - 1}"
    else:
        where = (f"output row {r0}" if r1 - r0 == 1 else f"output rows {r0}–{r1 - 1}") + f", cols {c0}–{c1 - 1}"
    return f"Part {index} of {parts}: {where} (steps {first}–{last} of {len(sweep)})."


_WHAT_A_STEP_DOES = {
    "conv": "The kernel slides over the padded grid (padding in grey, with the values the padding mode really puts "
            "there); each step multiplies the taps by the weights and adds them up.",
    "max": "The pooling window slides over the padded input (max pooling pads with −∞, so padding never wins); each "
           "step takes the largest value under the window. Pooling has no weights.",
    "avg": "The pooling window slides over the padded input (zeros); each step adds the values under the window and "
           "divides by the cells counted (count_include_pad decides whether padding counts). Pooling has no weights.",
}


def page_caption(op: str) -> str:
    """The sweep page's opening words for an operation (pooling never speaks of weights).

    >>> "weights" in page_caption("conv"), "multiplies" in page_caption("max") + page_caption("avg")
    (True, False)
    """
    return (_WHAT_A_STEP_DOES.get(op, _WHAT_A_STEP_DOES["conv"]) + " The player below is the timeline: step with its "
            "buttons, or hover (tap) an output cell to jump to its step; values are small whole numbers so you can "
            "check every step.")
