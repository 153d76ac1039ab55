"""Practice mode: seeded questions per level, each with its right answer and links to the lab (checking: practice_check).

The same (seed, level, number) gives the same question for every student on every machine: each
question draws from its own `random.Random` seeded by that triple. torch is the oracle in the tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional
from urllib.parse import parse_qsl

from conv_lab import limits
from conv_lab.core.code import layer_code
from conv_lab.core.costs import layer_cost
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import AXES
from conv_lab.core.shapes import conv_out, explain
from conv_lab.core.state import LabConfig, parse_query, share_query_string
from conv_lab.core.torch_run import causal_pad
from conv_lab.practice import draw, draw_nd

LEVELS: dict[int, tuple[str, str]] = {
    1: ("Stride 1, no padding", "one layer, the kernel shrinks the input: H_out = H_in − k + 1"),
    2: ("Padding", "numbers, 'same' and 'valid'; the padding that keeps the size"),
    3: ("Stride", "the floor in the formula; which stride turns 64 into 32"),
    4: ("Stacks, non-square, parameters", "two or three layers in a row, height ≠ width, parameter counts"),
    5: ("Dilation, transposed, groups", "the full formula, ConvTranspose2d, grouped and depthwise layers"),
    6: ("Sequences and volumes", "Conv1d (causal padding: d·(k−1) zeros on the left only) and Conv3d: one output "
                                 "size per dimension, L or D, H, W"),
}
# (kind, fails, weight) per level: the mix of questions
MIX: dict[int, tuple[tuple[str, bool, int], ...]] = {
    1: (("shape", False, 17), ("shape", True, 3)),
    2: (("shape", False, 6), ("keep_padding", False, 2), ("shape", True, 2)),
    3: (("shape", False, 5), ("stride_for", False, 3), ("shape", True, 2)),
    4: (("stack", False, 4), ("params", False, 3), ("shape", False, 2), ("stack", True, 2)),
    5: (("shape", False, 4), ("stack", False, 2), ("params", False, 2), ("keep_padding", False, 1), ("shape", True, 2),
        ("stack", True, 1)),
    6: (("shape", False, 8), ("stack", False, 3), ("params", False, 2), ("shape", True, 2), ("stack", True, 1)),
}
NUMBER_LABELS = {"params": "Parameters", "keep_padding": "Padding per side", "stride_for": "Stride"}


@dataclass(frozen=True)
class Link:
    """Where to explore one layer of a question: the Shape Lab and the Sweep on exactly it."""

    label: str
    shape_lab: str
    sweep: str


@dataclass(frozen=True)
class Question:
    """One practice question with its right answer (a shape, a number, or 'this layer fails' and why)."""

    seed: int
    level: int
    number: int
    kind: str  # shape | stack | params | keep_padding | stride_for
    layers: tuple[LabConfig, ...]  # each with its own input size; keep_padding/stride_for hold the solved layer
    answer_shape: Optional[tuple[int, ...]] = None  # (C_out, *sizes): one size per dimension
    answer_number: Optional[int] = None
    failure_param: str = ""  # set when the right answer is "this layer fails"
    failure_why: str = ""
    failure_fix: str = ""
    target: int = 0  # stride_for: the output size wanted

    @property
    def fails(self) -> bool:
        """True when PyTorch rejects the (last) layer."""
        return bool(self.failure_param)

    @property
    def asks(self) -> str:
        """'shape' (C_out, H_out, W_out or fails) or 'number'."""
        return "shape" if self.kind in ("shape", "stack") else "number"

    @property
    def shape_labels(self) -> tuple[str, ...]:
        """The boxes a shape answer has: C_out, then one size per dimension (L_out; H_out, W_out; D_out, H_out, W_out).

        >>> question_at(42, 1, 1).shape_labels
        ('C_out', 'H_out', 'W_out')
        """
        return ("C_out", *(f"{symbol}_out" for _, symbol, _ in AXES[self.layers[-1].dims]))

    @property
    def number_label(self) -> str:
        """Label of the one number asked for (number questions)."""
        return NUMBER_LABELS.get(self.kind, "")

    @property
    def failure(self) -> Optional[ConvConfigError]:
        """The error PyTorch's rule raises, as Conv Lab words it."""
        return ConvConfigError(self.failure_param, self.failure_why, self.failure_fix) if self.fails else None

    @property
    def prompt(self) -> str:
        """The question in words (markdown)."""
        first = self.layers[0]
        if self.kind == "params":
            return "How many **learnable parameters** (weights and biases) does this layer have?"
        if self.kind == "keep_padding":
            return f"Which **padding** (per side) keeps the output at **{first.height}×{first.width}**?"
        if self.kind == "stride_for":
            return f"Which **stride** turns **{first.height}×{first.width}** into **{self.target}×{self.target}**?"
        what = "these layers" if self.kind == "stack" else "this layer"
        labels = self.shape_labels
        return (f"What shape comes out of {what}? Enter {', '.join(labels[:-1])} and {labels[-1]} — or tick "
                "**PyTorch rejects this** if it cannot run.")

    @property
    def code(self) -> str:
        """The question as the PyTorch lines a learner would type."""
        first = self.layers[0]
        x = f"x = torch.randn({', '.join(str(v) for v in first.input_shape())})"
        if self.kind == "params":
            return f"layer = {config_code(first)}\nsum(p.numel() for p in layer.parameters())  # = ?"
        if self.kind in ("keep_padding", "stride_for"):
            hidden = "padding" if self.kind == "keep_padding" else "stride"
            size = (first.height, first.width) if hidden == "padding" else (self.target, self.target)
            return (f"{x}\nlayer = {config_code(first, hidden)}\ny = layer(x)\n"
                    f"print(y.shape)  # must be torch.Size([1, {first.out_channels}, {size[0]}, {size[1]}])")
        if any(c.padding == "causal" for c in self.layers):  # torch has no padding='causal': F.pad, then the conv
            names = ["layer"] if len(self.layers) == 1 else [f"layer{i}" for i in range(1, len(self.layers) + 1)]
            lines = [x, *(f"{n} = {config_code(c, causal_pad=False)}" for n, c in zip(names, self.layers))]
            for n, c in zip(names, self.layers):
                lines.append(f"x = {n}(F.pad(x, ({n}.dilation[0] * ({n}.kernel_size[0] - 1), 0)))  # causal: zeros on "
                             "the left only" if c.padding == "causal" else f"x = {n}(x)")
            return "\n".join([*lines, "print(x.shape)  # = ?"])
        if self.kind == "stack":
            body = "".join(f"    {config_code(c)},\n" for c in self.layers)
            return f"{x}\nnet = nn.Sequential(\n{body})\ny = net(x)\nprint(y.shape)  # = ?"
        return f"{x}\nlayer = {config_code(first)}\ny = layer(x)\nprint(y.shape)  # = ?"

    @property
    def summary(self) -> str:
        """The question on one line (teacher view): input, layers, what is asked.

        >>> question_at(42, 1, 1).summary.startswith("(1, ")
        True
        """
        first = self.layers[0]
        hidden = {"keep_padding": "padding", "stride_for": "stride"}.get(self.kind, "")
        layers = " → ".join(config_code(c, hidden) for c in self.layers)
        if self.kind == "params":
            return f"parameters of {layers}"
        goal = f" → {self.target}×{self.target}" if self.kind == "stride_for" else (
            " → same size" if self.kind == "keep_padding" else "")
        return f"{first.input_shape()} → {layers}{goal}"

    @property
    def answer_text(self) -> str:
        """The right answer in a few words (teacher view)."""
        if self.fails:
            where = f"layer {len(self.layers)} " if self.kind == "stack" else ""
            return f"fails — {where}{self.failure_param}: {self.failure_why}"
        if self.answer_shape:
            return f"({', '.join(str(v) for v in self.answer_shape)})"
        if self.kind == "keep_padding":
            return f"padding={self.answer_number}"
        if self.kind == "stride_for":
            return f"stride={self.answer_number}"
        return f"{self.answer_number:,}"

    @property
    def links(self) -> tuple[Link, ...]:
        """Shape Lab and Sweep links on exactly each layer of the question."""
        links = []
        for i, config in enumerate(self.layers, 1):
            query = share_query_string(config)
            label = f"Layer {i}" if len(self.layers) > 1 else "This layer"
            links.append(Link(label, f"/?{query}", f"/sweep?{query}"))
        return tuple(links)


def _short(value):
    """Equal sizes as the one number torch also takes (3 for (3, 3) or (3,))."""
    return value[0] if isinstance(value, tuple) and len(set(value)) == 1 else value


def config_code(config: LabConfig, hidden: str = "", causal_pad: bool = True) -> str:
    """The nn.Conv1d/2d/3d / nn.ConvTranspose… call for a layer, defaults left out, `hidden` shown as '?'; a causal
    layer is the conv after F.pad (the pad written out when `causal_pad`).

    >>> config_code(draw.layer(3, 32, 32, 16, 3, 2, 1), hidden="stride")
    'nn.Conv2d(3, 16, kernel_size=3, stride=?, padding=1)'
    >>> config_code(draw_nd.layer_nd(1, 1, (50,), 8, 3, p="causal", d=2))
    'nn.Conv1d(1, 8, kernel_size=3, dilation=2) after F.pad(x, (4, 0))'
    """
    values = {"in_channels": config.in_channels, "out_channels": config.out_channels,
              "kernel_size": _short(config.kernel_size)}
    ones, zeros, causal = (1,) * config.dims, (0,) * config.dims, config.padding == "causal"
    optional = (("stride", config.stride, ones), ("padding", "causal" if causal else config.padding,
                                                   "causal" if causal else zeros),
                ("output_padding", config.output_padding, zeros), ("dilation", config.dilation, ones),
                ("groups", config.groups, 1), ("bias", config.bias, True))
    for name, value, default in optional:
        if name == hidden or value != default:
            values[name] = _short(value)
    kind = "ConvTranspose" if config.transposed else "Conv"
    code = layer_code(f"{kind}{config.dims}d", values, positional=2, hidden=hidden)
    if causal and causal_pad:
        try:
            code += f" after F.pad(x, ({causal_pad_of(config)}, 0))"
        except ConvConfigError:
            code += " after causal padding"
    return code


def causal_pad_of(config: LabConfig) -> int:
    """The zeros a causal layer pads on the left, d·(k−1) (0 for other layers).

    >>> causal_pad_of(draw_nd.layer_nd(1, 1, (50,), 8, 3, p="causal", d=4))
    8
    """
    return causal_pad(config.spec())


def _links_round_trip(config: LabConfig) -> bool:
    """True when the Shape Lab link opens exactly this configuration (no value clamped)."""
    parsed, notices = parse_query(dict(parse_qsl(share_query_string(config))))
    return parsed == config and not notices


def _run(layers: list[LabConfig]) -> tuple[Optional[tuple[int, ...]], Optional[ConvConfigError], int]:
    """Final shape, or the error and the 1-based layer that raised it."""
    shape = None
    for i, config in enumerate(layers, 1):
        try:
            shape = explain(config.spec(), config.input_shape()).output_shape
        except ConvConfigError as exc:
            return None, exc, i
    return shape, None, 0


def _draw(rng: random.Random, level: int, kind: str, fails: bool) -> Optional[dict]:
    """One candidate question's fields, or None when the draw is not what was asked for."""
    source = draw_nd if level >= 6 else draw  # level 6: 1-D and 3-D; levels 1–5 draw exactly as before
    if kind == "stack":
        layers = source.stack(rng, level, fails)
    elif kind == "shape":
        layers = [source.broken(rng, level) if fails else source.single(rng, level)]
    elif kind == "params":
        layers = [source.params_layer(rng, level)]
    elif kind == "keep_padding":
        layers = [draw.keep_padding_layer(rng, level)]
    else:
        layers = [draw.stride_layer(rng)]
    if kind == "stack" and len(layers) < 2 or not all(_links_round_trip(c) for c in layers):
        return None
    shape, error, where = _run(layers)
    if fails:  # only a rule PyTorch itself enforces, in the last layer
        ok = error is not None and where == len(layers) and "cap" not in error.why
        return dict(layers=tuple(layers), failure_param=error.param, failure_why=error.why,
                    failure_fix=error.fix) if ok else None
    if error is not None or max(shape[2:]) > 512:
        return None
    if sum(layer_cost(c.spec(), c.input_shape()).macs for c in layers) > limits.MAX_PRACTICE_MACS:
        return None
    first = layers[0]
    if kind in ("shape", "stack"):
        return dict(layers=tuple(layers), answer_shape=tuple(shape[1:]))
    if kind == "params":
        return dict(layers=tuple(layers), answer_number=layer_cost(first.spec(), first.input_shape()).params)
    if kind == "keep_padding":
        return dict(layers=tuple(layers), answer_number=first.padding[0])
    k, p = first.kernel_size[0], first.padding[0]
    target = shape[-2]
    strides = [s for s in range(1, 9) if conv_out(first.height, k, s, p, p) == target]
    if strides != [first.stride[0]] or target < 2:
        return None
    return dict(layers=tuple(layers), answer_number=first.stride[0], target=target)


@lru_cache(maxsize=4096)
def question_at(seed: int, level: int, number: int) -> Question:
    """Question `number` (1-based) of the set for `seed` and `level`: the same for every student.

    >>> question_at(42, 1, 1) == question_at(42, 1, 1)
    True
    """
    rng = random.Random(f"conv-lab-practice/{seed}/{level}/{number}")
    mix = MIX[level]
    earlier = {question_at(seed, level, n).layers for n in range(max(1, number - limits.PRACTICE_SET_SIZE), number)}
    for _ in range(500):
        kind, fails, _w = rng.choices(mix, weights=[w for *_, w in mix])[0]
        fields = _draw(rng, level, kind, fails)
        if fields and fields["layers"] not in earlier:  # no repeats within a set
            return Question(seed, level, number, kind, **fields)
    raise RuntimeError(f"no question drawn for seed={seed} level={level} number={number}")  # never seen in tests


def question_set(seed: int, level: int, count: int = limits.PRACTICE_SET_SIZE) -> list[Question]:
    """The whole set of questions for a seed and level, in order.

    >>> [q.number for q in question_set(7, 2, 3)]
    [1, 2, 3]
    """
    return [question_at(seed, level, n) for n in range(1, count + 1)]

