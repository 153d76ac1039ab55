"""Why a skip connection's two shapes do not fit, and which crop, padding or output_padding would fix it.

Fixes are found by re-running the formulas with one change at a time (bounded by
limits.MAX_SKIP_FIX_TRIALS trials and limits.MAX_SKIP_FIX_STEPS layer formulas), so every suggestion is one the
planner has checked.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import AXES, as_sizes, fmt
from conv_lab.network.flow import Skip, SkipReport, crop_text, follow, merge_shapes
from conv_lab.network.layers import LAYER_KINDS
from conv_lab.network.shapes import Shape, describe

MAX_FIXES = 3


def _mismatch_text(source: Shape, target: Shape, mode: str) -> str:
    if len(source) != len(target) and mode == "cat":
        return f"the tensors have different ranks: {describe(source)} and {describe(target)}"
    parts = []
    if 3 <= len(source) == len(target) <= 5:
        axes = AXES[len(source) - 2]
        diffs = [a - b for a, b in zip(source[2:], target[2:])]
        if any(diffs):
            more = "larger" if min(diffs) >= 0 else "smaller" if max(diffs) <= 0 else "different"
            words = [f"{abs(d)} {cell}s" for d, (_, _, cell) in zip(diffs, axes)]
            counts = " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)
            parts.append(f"the skip is {counts} {more} ({fmt(source[2:])} vs {fmt(target[2:])})")
    if mode == "add" and len(source) == len(target) >= 2 and source[1] != target[1] and 1 not in (source[1], target[1]):
        parts.append(f"adding needs equal channels, but they are {source[1]} and {target[1]}")
    detail = "; ".join(parts) or "the shapes differ"
    return f"{describe(source)} does not fit {describe(target)}: {detail}"


def _sizes(layer: tuple, name: str, default: int) -> tuple[int, ...]:
    return as_sizes(layer[1].get(name, default), LAYER_KINDS[layer[0]].dims, name)


def _padding_trials(layers: Sequence[Any], lo: int, hi: int) -> Iterator[tuple[str, list]]:
    """(description, changed layers) candidates, most natural first."""
    keep, changed = list(layers), []
    for j in range(lo, hi):
        layer = layers[j]
        if isinstance(layer, tuple) and LAYER_KINDS[layer[0]].family == "conv" and \
                not isinstance(layer[1].get("padding", 0), str):
            k, d, s = _sizes(layer, "kernel_size", 1), _sizes(layer, "dilation", 1), _sizes(layer, "stride", 1)
            want = tuple(di * (ki - 1) // 2 for ki, di in zip(k, d))
            if set(s) == {1} and all(di * (ki - 1) % 2 == 0 for ki, di in zip(k, d)) and \
                    _sizes(layer, "padding", 0) != want:
                keep[j] = (layer[0], {**layer[1], "padding": want[0] if len(set(want)) == 1 else want})
                changed.append(j + 1)
    if changed:
        pads = sorted({str(keep[j - 1][1]["padding"]) for j in changed})
        names = sorted({keep[j - 1][0] for j in changed})
        yield (f"keep each size: padding={'/'.join(pads)} on {'/'.join(names)} layer{'s' if len(changed) > 1 else ''} "
               f"{', '.join(map(str, changed))}", keep)
    causal, turned = list(layers), []
    for j in range(lo, hi):  # 1-D: causal padding keeps the length too, and sees only the past
        layer = layers[j]
        if isinstance(layer, tuple) and layer[0] == "Conv1d" and _sizes(layer, "stride", 1) == (1,) and \
                layer[1].get("padding", 0) != "causal" and layer[1].get("padding_mode", "zeros") == "zeros":
            causal[j] = (layer[0], {**layer[1], "padding": "causal"})
            turned.append(j + 1)
    if turned:
        yield (f"keep each length, past only: padding='causal' on Conv1d layer{'s' if len(turned) > 1 else ''} "
               f"{', '.join(map(str, turned))}", causal)
    for j in range(hi - 1, lo - 1, -1):  # the layers nearest the merge first
        layer = layers[j]
        family = LAYER_KINDS[layer[0]].family if isinstance(layer, tuple) else ""
        if family not in ("conv", "transposed", "maxpool", "avgpool"):
            continue
        name, values = layer
        if family == "transposed":
            s, d = _sizes(layer, "stride", 1), _sizes(layer, "dilation", 1)
            for op in range(max(max(s), max(d))):
                if all(op < max(si, di) for si, di in zip(s, d)) and op != values.get("output_padding", 0):
                    yield f"output_padding={op} on layer {j + 1} ({name})", _with(layers, j, output_padding=op)
        current = values.get("padding", 0)
        for p in range(0, 9):
            if p != current:
                yield f"padding={p} on layer {j + 1} ({name})", _with(layers, j, padding=p)


def _with(layers: Sequence[Any], j: int, **changes: Any) -> list:
    new = list(layers)
    new[j] = (layers[j][0], {**layers[j][1], **changes})
    return new


def suggest_fixes(input_shape: Shape, layers: Sequence[Any], skips: Sequence[Skip], n: int,
                  report: SkipReport) -> tuple[str, tuple[str, ...]]:
    """Plain words for skip `n`'s mismatch and up to three checked fixes.

    >>> from conv_lab.network.flow import Skip, SkipReport
    >>> layers = [("Conv2d", {"out_channels": 4, "kernel_size": 3})]
    >>> skip = Skip("add", 0, 1)
    >>> suggest_fixes((1, 4, 8, 8), layers, [skip], 0, SkipReport(skip, "mismatch", (1, 4, 8, 8), (1, 4, 6, 6)))[1][:2]
    ('tick crop: centre-crop the skip by 1 top, 1 bottom, 1 left, 1 right', 'keep each size: padding=1 on Conv2d layer 1')
    """
    skip, source, target = report.skip, report.source_shape, report.target_shape
    why = _mismatch_text(source, target, skip.mode)
    fixes: list[str] = []
    if not skip.crop and 3 <= len(source) == len(target) <= 5 and all(a >= b for a, b in zip(source[2:], target[2:])):
        try:
            _, box = merge_shapes(skip.mode, source, target, crop=True)
            fixes.append(f"tick crop: centre-crop the skip by {crop_text(box)}")
        except ConvConfigError:
            pass
    if skip.mode == "add" and len(source) == len(target) >= 2 and source[1] != target[1]:
        conv = f"Conv{len(source) - 2}d" if 3 <= len(source) <= 5 else "Conv2d"
        fixes.append(f"make the channels equal: out_channels={source[1]} on the last conv before point {skip.target}, "
                     f"or a 1×1 {conv}({source[1]}→{target[1]}) on the skip")
    trials, memo = 0, {}  # memo: each layer's formula per input shape, shared by the trials (most repeat)
    for text, changed in _padding_trials(layers, skip.source, skip.target):
        trials += 1
        if trials > limits.MAX_SKIP_FIX_TRIALS or len(fixes) >= MAX_FIXES or len(memo) > limits.MAX_SKIP_FIX_STEPS:
            break
        flow = follow(input_shape, changed, skips, stop=skip.target, memo=memo)
        if flow.broken is None and n in flow.merges and flow.merges[n].status == "ok":
            fixes.append(text)
    if not fixes:
        fixes.append(f"change the layers between points {skip.source} and {skip.target} so both shapes agree")
    return why, tuple(fixes)
