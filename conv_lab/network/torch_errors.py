"""torch's shape errors in plain words, with the numbers from the message, pointing at the likely layer of a model.

Each known message is a regular expression and a function that explains its
numbers; with a `DebugReport` of the same model (debug.debug_model) the layers
whose arguments carry those numbers are named. The message is only matched,
never run.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from conv_lab import limits
from conv_lab.network.debug_walk import where


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in re.findall(r"\d+", text))


def _layers(report: Any, kinds: tuple[str, ...], **want: Any) -> list[str]:
    """Names of the report's layers of `kinds` whose values equal `want` (tuples and ints compared alike)."""
    found = []
    for name, (kind, values) in (getattr(report, "layers", None) or {}).items():
        if kind in kinds and all(_same(values.get(k), v) for k, v in want.items()):
            found.append(f"{where(name)} ({kind})")
    return found


def _same(value: Any, want: Any) -> bool:
    if isinstance(want, tuple) and isinstance(value, int):
        value = (value,) * len(want)
    return value == want


def _pointing(report: Any, names: list[str]) -> str:
    if report is None:
        return ""
    if not names:
        return "\n\nIn the pasted model no layer has these numbers: the error may come from a different model, or from " \
               "forward() code that print(model) does not show."
    found = where(report.broken or report.suspect or "")
    names = [n for n in names if n.startswith(f"{found} (")] or names  # the layer the check found breaking, if any
    text = f"\n\nIn the pasted model: **{', '.join(names[:4])}**" + (" and more" if len(names) > 4 else "") + "."
    if found and report.fix and names[0].startswith(f"{found} ("):
        text += f" Conv Lab's check of it says: {report.fix}."
    return text


def _matmul(m: re.Match, report: Any) -> str:
    a, b, c, d = (int(v) for v in m.groups())
    text = (f"A **Linear** layer built as `Linear(in_features={c}, out_features={d})` got rows of **{b}** numbers "
            f"(its input reached it as {a}×{b}). The numbers must agree: use `Linear(in_features={b}, …)`, or change "
            f"the layers before it so that {c} numbers arrive.")
    if a > 16:
        text += (f" {a} rows is more than a usual batch: if the tensor was not flattened, torch treated every row of "
                 f"the feature map as a sample. Put `nn.Flatten()` (or `torch.flatten(x, 1)`) before the Linear and "
                 f"use in_features = channels × height × width.")
    return text + _pointing(report, _layers(report, ("Linear",), in_features=c, out_features=d))


def _channels(m: re.Match, report: Any) -> str:
    head, expected, got = m.group(1) or "", int(m.group(3)), int(m.group(4))
    shape = _ints(m.group(2))
    groups = int(re.search(r"groups=(\d+)", head).group(1)) if "groups=" in head else 1
    transposed = "transposed=1" in head
    kind = "ConvTranspose2d" if transposed else "Conv2d"
    text = (f"A **{kind}** built for **{expected}** input channels (`in_channels={expected}`) got a tensor with "
            f"**{got}** channels (shape {list(shape)}: batch, channels, height, width). Use "
            f"`{kind}(in_channels={got}, …)`, or give it {expected} channels")
    text += " (1 channel is a greyscale image, 3 an RGB one)." if {expected, got} == {1, 3} else "."
    if groups > 1:
        text += f" With groups={groups}, in_channels must also divide by {groups}."
    return text + _pointing(report, _layers(report, (kind,), in_channels=expected))


def _kernel(m: re.Match, report: Any) -> str:
    h, w, kh, kw = (int(v) for v in m.groups())
    text = (f"A **convolution** with a **{kh}×{kw}** kernel got a feature map of only **{h}×{w}** (padding included): "
            f"the kernel does not fit. The map shrank too much before this layer (each pooling halves it; each "
            f"unpadded {kh}×{kw} conv takes {kh - 1}). Use a larger input, add padding to the earlier convs, or remove "
            "a pooling layer.")
    return text + _pointing(report, _layers(report, ("Conv2d",), kernel_size=(kh, kw)))


def _pool(m: re.Match, report: Any) -> str:
    c, h, w, oc, oh, ow = (int(v) for v in m.groups())
    text = (f"A **pooling** layer got a {c}×{h}×{w} feature map and would give {oc}×{oh}×{ow}: no cells left. The map "
            "is smaller than the pooling window: use a larger input, pool less often, or pad the convs before it.")
    return text + _pointing(report, _layers(report, ("MaxPool2d", "AvgPool2d")))


def _cat(m: re.Match, report: Any) -> str:
    dim, expected, got, number = (int(v) for v in m.groups())
    text = (f"**torch.cat** joins tensors along dimension {dim}" + (" (the channels)" if dim == 1 else "") + ", and "
            f"every other dimension must be equal. The first tensor has size **{expected}** in one of them where "
            f"tensor number {number} has **{got}**. In a U-Net this is a skip connection meeting an upsampled map: an "
            f"odd size was halved by pooling and doubled back ({got if got % 2 else expected} → "
            f"{(got if got % 2 else expected) // 2} → {(got if got % 2 else expected) // 2 * 2}). Use an input whose "
            "size divides by 2 for every pooling, padding=1 on the 3×3 convs, or centre-crop the skip (the planner's "
            "crop option).")
    if report is None:
        return text
    sized = [where(name) for name, shape in report.shapes.items() if len(shape) == 4 and {expected, got} & set(shape[2:])]
    return text + ("\n\nThe concatenation happens in forward(), which print(model) does not show" +
                   (f"; layers whose output is {expected} or {got} wide: **{', '.join(sized[:6])}**." if sized else "."))


def _add(m: re.Match, report: Any) -> str:
    a, b, dim = (int(v) for v in m.groups())
    what = {1: "channels", 2: "height", 3: "width"}.get(dim, f"dimension {dim}")
    fix = ("give the shortcut a 1×1 conv with the same out_channels (ResNet's `downsample`)" if dim == 1 else
           "give the shortcut the same stride as the main path (a strided 1×1 conv), or pad the convs so they keep "
           "the size")
    return (f"**Adding** two tensors (a residual or skip connection, `x + shortcut`) needs equal sizes, but their "
            f"{what} are **{a}** and **{b}**: {fix}.")


def _running_mean(m: re.Match, report: Any) -> str:
    got, built = int(m.group(1)), int(m.group(2))
    return (f"A **BatchNorm** built for **{built}** channels (`num_features={built}`) got **{got}**: use "
            f"`BatchNorm2d({got})` (or BatchNorm1d after a Linear)." +
            _pointing(report, _layers(report, ("BatchNorm2d",), num_features=built)))


def _one_value(m: re.Match, report: Any) -> str:
    return (f"A **BatchNorm** in training mode needs more than one value per channel, but its input is "
            f"{list(_ints(m.group(1)))}: batch × height × width = 1. Use a batch of 2 or more, call model.eval() "
            "to test one sample, or normalise before the map shrinks to 1×1.")


def _layernorm(m: re.Match, report: Any) -> str:
    want, got = list(_ints(m.group(1))), list(_ints(m.group(3)))
    return (f"A **LayerNorm** built for the last dimensions {want} got an input of size {got}: its "
            f"normalized_shape must equal the input's last dimensions: use `LayerNorm({got[-len(want):]})`." +
            _pointing(report, _layers(report, ("LayerNorm",), normalized_shape=tuple(want))))


def _rank(m: re.Match, report: Any) -> str:
    return (f"**{m.group(1)}** needs a (batch, channels, height, width) tensor, but it got {m.group(2).strip()}: a "
            "flattened vector. Convolutions and pooling come before Flatten (or reshape it back with nn.Unflatten).")


PATTERNS: tuple[tuple[re.Pattern, Callable[[re.Match, Any], str]], ...] = (
    (re.compile(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)"), _matmul),
    (re.compile(r"(Given (?:groups|transposed)=[^\n]{0,120}?)?expected input\[([\d, ]{1,80})\] to have (\d+) channels, "
                r"but got (\d+) channels instead"), _channels),
    (re.compile(r"Calculated padded input size per channel: \((\d+) x (\d+)\)\. Kernel size: \((\d+) x (\d+)\)"),
     _kernel),
    (re.compile(r"Given input size: \((\d+)x(\d+)x(\d+)\)\. Calculated output size: \((-?\d+)x(-?\d+)x(-?\d+)\)"),
     _pool),
    (re.compile(r"Sizes of tensors must match except in dimension (\d+)\. Expected size (\d+) but got size (\d+) for "
                r"tensor number (\d+)"), _cat),
    (re.compile(r"The size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) at non-singleton "
                r"dimension (\d+)"), _add),
    (re.compile(r"running_mean should contain (\d+) elements not (\d+)"), _running_mean),
    (re.compile(r"Expected more than 1 value per channel when training, got input size (?:torch\.Size\()?(\[[\d, ]+\])"),
     _one_value),
    (re.compile(r"Given normalized_shape=\[([\d, ]+)\], expected input with shape \[\*, ([\d, ]+)\], but got input of "
                r"size\s*\[([\d, ]+)\]"), _layernorm),
    (re.compile(r"Expected 3D \(unbatched\) or 4D \(batched\) input to (conv2d|conv_transpose2d|max_pool2d|avg_pool2d), "
                r"but got input of size: (\[[\d, ]+\])"), _rank),
)


def explain_torch_error(text: str, model_report: Any = None) -> str | None:
    """Plain words (Markdown) for a pasted torch shape error, with its numbers; None when the message is not one.

    >>> explain_torch_error("RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x2304 and 1024x10)")[:71]
    'A **Linear** layer built as `Linear(in_features=1024, out_features=10)`'
    """
    if not isinstance(text, str):
        return None
    text = text[-limits.MAX_DEBUG_TEXT_CHARS:]  # the message is at the end of a traceback
    for pattern, explain in PATTERNS:
        matches = list(pattern.finditer(text))[-1:]  # the last: a traceback may quote earlier errors
        if matches:
            return explain(matches[0], model_report)
    return None
