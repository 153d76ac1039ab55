"""Why a skip connection's two shapes do not fit, and which crop, padding or output_padding would fix it.

Fixes are found by re-running the formulas with one change at a time (bounded by
limits.MAX_SKIP_FIX_TRIALS trials and limits.MAX_SKIP_FIX_STEPS layer formulas), so every suggestion is one the
planner has checked.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import as_pair
from conv_lab.network.flow import Skip, SkipReport, follow, merge_shapes
from conv_lab.network.shapes import Shape, describe

MAX_FIXES = 3


def _mismatch_text(source: Shape, target: Shape, mode: str) -> str:
    if len(source) != len(target) and mode == "cat":
        return f"the tensors have different ranks: {describe(source)} and {describe(target)}"
    parts = []
    if len(source) == 4 == len(target):
        dh, dw = source[2] - target[2], source[3] - target[3]
        if dh or dw:
            more = "larger" if dh >= 0 and dw >= 0 else "smaller" if dh <= 0 and dw <= 0 else "different"
            parts.append(f"the skip is {abs(dh)} rows and {abs(dw)} columns {more} ({source[2]}×{source[3]} vs "
                         f"{target[2]}×{target[3]})")
    if mode == "add" and len(source) == len(target) >= 2 and source[1] != target[1] and 1 not in (source[1], target[1]):
        parts.append(f"adding needs equal channels, but they are {source[1]} and {target[1]}")
    detail = "; ".join(parts) or "the shapes differ"
    return f"{describe(source)} does not fit {describe(target)}: {detail}"


def _padding_trials(layers: Sequence[Any], lo: int, hi: int) -> Iterator[tuple[str, list]]:
    """(description, changed layers) candidates, most natural first."""
    keep, changed = list(layers), []
    for j in range(lo, hi):
        layer = layers[j]
        if isinstance(layer, tuple) and layer[0] == "Conv2d" and not isinstance(layer[1].get("padding", 0), str):
            k, d = as_pair(layer[1]["kernel_size"], "k"), as_pair(layer[1].get("dilation", 1), "d")
            s = as_pair(layer[1].get("stride", 1), "s")
            want = tuple(di * (ki - 1) // 2 for ki, di in zip(k, d))
            if s == (1, 1) and all(di * (ki - 1) % 2 == 0 for ki, di in zip(k, d)) and \
                    as_pair(layer[1].get("padding", 0), "p") != want:
                keep[j] = (layer[0], {**layer[1], "padding": want[0] if want[0] == want[1] else want})
                changed.append(j + 1)
    if changed:
        pads = sorted({str(keep[j - 1][1]["padding"]) for j in changed})
        yield (f"keep each size: padding={'/'.join(pads)} on Conv2d layer{'s' if len(changed) > 1 else ''} "
               f"{', '.join(map(str, changed))}", keep)
    for j in range(hi - 1, lo - 1, -1):  # the layers nearest the merge first
        layer = layers[j]
        if not isinstance(layer, tuple) or layer[0] not in ("Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d"):
            continue
        name, values = layer
        if name == "ConvTranspose2d":
            s, d = as_pair(values.get("stride", 1), "s"), as_pair(values.get("dilation", 1), "d")
            for op in range(max(max(s), max(d))):
                if op < max(s[0], d[0]) and op < max(s[1], d[1]) and op != values.get("output_padding", 0):
                    yield f"output_padding={op} on layer {j + 1} (ConvTranspose2d)", _with(layers, j, output_padding=op)
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
    if not skip.crop and len(source) == 4 == len(target) and source[2] >= target[2] and source[3] >= target[3]:
        try:
            _, box = merge_shapes(skip.mode, source, target, crop=True)
            fixes.append("tick crop: centre-crop the skip by {} top, {} bottom, {} left, {} right".format(*box))
        except ConvConfigError:
            pass
    if skip.mode == "add" and len(source) == len(target) >= 2 and source[1] != target[1]:
        fixes.append(f"make the channels equal: out_channels={source[1]} on the last conv before point {skip.target}, "
                     f"or a 1×1 Conv2d({source[1]}→{target[1]}) on the skip")
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
