"""The network planner's layer table: torch's layer and argument names, safe parsing of argument text.

A layer row is a layer name ("Conv2d") and argument text written the way it is
in PyTorch ("out_channels=16, kernel_size=3, padding=1"). Parsing never evals:
a small tokenizer reads numbers, tuples of 1 to 3 numbers, True/False/None and
words, and every problem is a ConvConfigError naming the argument and a fix.
Kind names are torch's class names (Conv1d … Conv3d, MaxPool3d, BatchNorm1d, …);
each 1-D/2-D/3-D family is one generated row per dimension.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import DIMS, PADDING_MODES

UPSAMPLE_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear")
# the input rank each interpolating mode needs (nearest: any of 3, 4, 5)
UPSAMPLE_RANK = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
MAX_ARGUMENT_CHARS = 300  # one row's argument text


@dataclass(frozen=True)
class Arg:
    """One constructor argument: torch's name, its kind of value, default, URL letter and range."""

    name: str
    # count | pair (an int or one per dimension) | padding | optpair | float | bool | optbool | choice | size | dim
    kind: str
    default: Any = None
    code: str = ""  # letter in the URL grammar ("" for the primary argument)
    lo: float = 0
    hi: float = 0
    choices: tuple = ()
    auto: bool = False  # taken from the incoming tensor when left out
    required: bool = False
    dims: int = 2  # numbers a tuple value holds (pair, padding, optpair, size); 0: 1 to 3 (Upsample's size)


@dataclass(frozen=True)
class LayerKind:
    """A torch.nn layer the planner knows, with its arguments in torch's order."""

    name: str
    code: str  # upper-case letter in the URL grammar
    args: tuple[Arg, ...]
    primary: str | None  # argument written right after the code in a URL (C16 = out_channels=16)
    blurb: str
    family: str = ""  # the shape rule: conv, transposed, maxpool, avgpool, adaptiveavg, adaptivemax, batchnorm, …
    dims: int = 0  # spatial dimensions of a 1-D/2-D/3-D layer (0: any input)

    @property
    def url_code(self) -> str:
        """The code in a `net=` link: 1-D and 3-D layers carry their dimension before the letter.

        >>> LAYER_KINDS["Conv1d"].url_code, LAYER_KINDS["Conv2d"].url_code, LAYER_KINDS["ReLU"].url_code
        ('1C', 'C', 'R')
        """
        return f"{self.dims}{self.code}" if self.dims in (1, 3) else self.code

    def arg(self, name: str) -> Arg:
        """The argument called `name`.

        >>> LAYER_KINDS["Conv2d"].arg("stride").default
        1
        """
        return next(a for a in self.args if a.name == name)


_CH, _F = limits.MAX_CHANNELS, limits.MAX_FILTERS
_WHAT = {1: "the sequence", 2: "the image", 3: "the volume (clip)"}


def _conv_args(transposed: bool, n: int) -> tuple[Arg, ...]:
    kmax, dmax = limits.MAX_KERNEL_BY_DIMS[n], limits.MAX_DILATION_BY_DIMS[n]
    words = ("same", "valid", "causal") if n == 1 else ()
    args = [Arg("in_channels", "count", None, "i", 1, _CH, auto=True),
            Arg("out_channels", "count", None, "", 1, _F, required=True),
            Arg("kernel_size", "pair", None, "k", 1, kmax, required=True, dims=n),
            Arg("stride", "pair", 1, "s", 1, limits.MAX_STRIDE, dims=n),
            Arg("padding", "pair" if transposed else "padding", 0, "p", 0, limits.MAX_PADDING, choices=words, dims=n)]
    if transposed:
        args += [Arg("output_padding", "pair", 0, "o", 0, limits.MAX_STRIDE, dims=n), Arg("groups", "count", 1, "g", 1, _CH),
                 Arg("bias", "bool", True, "b"), Arg("dilation", "pair", 1, "d", 1, dmax, dims=n)]
    else:
        args += [Arg("dilation", "pair", 1, "d", 1, dmax, dims=n), Arg("groups", "count", 1, "g", 1, _CH),
                 Arg("bias", "bool", True, "b"), Arg("padding_mode", "choice", "zeros", "m", choices=PADDING_MODES)]
    return tuple(args)


def _pool_args(max_pool: bool, n: int) -> tuple[Arg, ...]:
    kmax, dmax = limits.MAX_KERNEL_BY_DIMS[n], limits.MAX_DILATION_BY_DIMS[n]
    args = [Arg("kernel_size", "pair", None, "", 1, kmax, required=True, dims=n),
            Arg("stride", "optpair", None, "s", 1, limits.MAX_STRIDE, dims=n),
            Arg("padding", "pair", 0, "p", 0, limits.MAX_PADDING, dims=n)]
    if max_pool:
        return (*args, Arg("dilation", "pair", 1, "d", 1, dmax, dims=n), Arg("ceil_mode", "bool", False, "c"))
    return (*args, Arg("ceil_mode", "bool", False, "c"), Arg("count_include_pad", "bool", True, "n"))


def _sized_kinds(n: int) -> tuple[LayerKind, ...]:
    """The layers that exist in 1-D, 2-D and 3-D, for `n` spatial dimensions (torch's class names)."""
    size = (Arg("output_size", "size", None, "", 1, limits.MAX_OUTPUT_SPATIAL_BY_DIMS[n], required=True, dims=n),)
    causal = "; padding='causal' sees only the past" if n == 1 else ""
    return (
        LayerKind(f"Conv{n}d", "C", _conv_args(False, n), "out_channels",
                  f"slides out_channels filters over {_WHAT[n]}{causal}", "conv", n),
        LayerKind(f"ConvTranspose{n}d", "T", _conv_args(True, n), "out_channels",
                  "upsamples: each input cell scatters a kernel", "transposed", n),
        LayerKind(f"MaxPool{n}d", "M", _pool_args(True, n), "kernel_size", "keeps the largest value of each window",
                  "maxpool", n),
        LayerKind(f"AvgPool{n}d", "A", _pool_args(False, n), "kernel_size", "averages each window", "avgpool", n),
        LayerKind(f"AdaptiveAvgPool{n}d", "G", size, "output_size", "averages down to a fixed size", "adaptiveavg", n),
        LayerKind(f"AdaptiveMaxPool{n}d", "X", size, "output_size", "keeps the largest value down to a fixed size",
                  "adaptivemax", n),
        LayerKind(f"BatchNorm{n}d", "B", (Arg("num_features", "count", None, "", 1, _CH, auto=True),
                                         Arg("affine", "bool", True, "a")), "num_features", "normalises each channel",
                  "batchnorm", n),
    )


KINDS: tuple[LayerKind, ...] = (
    *(kind for family in zip(*(_sized_kinds(n) for n in DIMS)) for kind in family),
    LayerKind("ReLU", "R", (), None, "max(0, x): shape unchanged", "same"),
    LayerKind("Dropout", "D", (Arg("p", "float", 0.5, "", 0, 1),), "p", "zeroes a fraction p while training", "same"),
    LayerKind("Upsample", "U", (Arg("size", "size", None, "z", 1, limits.MAX_OUTPUT_SPATIAL, dims=0),
                                Arg("scale_factor", "float", None, "", 0.001, limits.MAX_UPSAMPLE_SCALE),
                                Arg("mode", "choice", "nearest", "m", choices=UPSAMPLE_MODES),
                                Arg("align_corners", "optbool", None, "a")), "scale_factor", "resizes by interpolation",
              "upsample"),
    LayerKind("Flatten", "F", (Arg("start_dim", "dim", 1, "s", -8, 8), Arg("end_dim", "dim", -1, "e", -8, 8)),
              None, "joins dimensions into one", "flatten"),
    LayerKind("Linear", "L", (Arg("in_features", "count", None, "i", 1, limits.MAX_LINEAR_FEATURES, auto=True),
                              Arg("out_features", "count", None, "", 1, limits.MAX_LINEAR_FEATURES, required=True),
                              Arg("bias", "bool", True, "b")), "out_features", "a fully connected layer on the last dim",
              "linear"),
)
LAYER_KINDS = {k.name: k for k in KINDS}
KIND_BY_CODE = {k.url_code: k for k in KINDS}
_KIND_BY_LOWER = {k.name.lower(): k for k in KINDS}

_INT = r"[+-]?\d{1,7}"
_RE_INT = re.compile(rf"^{_INT}$")
_RE_FLOAT = re.compile(r"^[+-]?(\d{1,7}\.\d{0,6}|\.\d{1,6})$")
_RE_TUPLE = re.compile(rf"^[(\[]\s*{_INT}\s*,\s*[)\]]$|^[(\[]?\s*{_INT}(?:\s*[,x×]\s*{_INT}){{1,2}}\s*,?\s*[)\]]?$")
_RE_WORD = re.compile(r"^[A-Za-z_]{1,20}$")
_RE_NAME = re.compile(r"^[A-Za-z_][A-Za-z_0-9]{0,40}$")


def kind_named(name: Any) -> LayerKind:
    """The layer kind for a name (case-insensitive, 'nn.' allowed), or ConvConfigError.

    >>> kind_named("nn.conv2d").name
    'Conv2d'
    """
    text = str(name or "").strip()
    text = text[3:] if text.lower().startswith("nn.") else text
    kind = _KIND_BY_LOWER.get(text.lower())
    if kind:
        return kind
    if not text:
        raise ConvConfigError("layer", "this row has no layer type", "pick one, e.g. Conv2d or ReLU")
    close = difflib.get_close_matches(text, LAYER_KINDS, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]}? " if close else ""
    raise ConvConfigError("layer", f"'{text[:40]}' is not a layer the planner knows",
                          f"{hint}use one of {', '.join(LAYER_KINDS)}")


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside brackets."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in (p.strip() for p in parts) if p]


def read_value(text: str) -> Any:
    """A literal from argument text: int, float, a tuple of 1 to 3 ints, True/False/None or a word; never evals.

    >>> read_value("(3, 5)"), read_value("(1, 2, 2)"), read_value("(9,)"), read_value("2.5"), read_value("'same'")
    ((3, 5), (1, 2, 2), (9,), 2.5, 'same')
    """
    raw = text.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        raw = raw[1:-1].strip()
    if _RE_INT.match(raw):
        return int(raw)
    if _RE_FLOAT.match(raw):
        return float(raw)
    if _RE_TUPLE.match(raw):
        return tuple(int(v) for v in re.findall(_INT, raw))
    if raw in ("True", "true"):
        return True
    if raw in ("False", "false"):
        return False
    if raw in ("None", "none"):
        return None
    if _RE_WORD.match(raw):
        return raw
    raise ValueError(raw)


def _example(arg: Arg) -> str:
    sizes = {0: "(7, 7)", 1: "", 2: "(3, 5)", 3: "(1, 3, 3)"}[arg.dims]
    either = f" or {sizes}" if sizes else ""
    words = " or ".join(repr(w) for w in arg.choices or ("same",))
    return {"count": "16", "pair": f"3{either}", "padding": f"1{either} or {words}", "optpair": "2",
            "float": "0.5", "bool": "True", "optbool": "True", "choice": repr(arg.choices[0]) if arg.choices else "",
            "size": f"7{either}", "dim": "1"}[arg.kind]


def _check_tuple(arg: Arg, value: tuple) -> Any:
    """A tuple value has one number per dimension (any 1 to 3 for dims 0); a 1-tuple is its number, as in torch."""
    if arg.dims and len(value) != arg.dims or not 1 <= len(value) <= 3:
        want = f"one number or {arg.dims}" if arg.dims > 1 else "one number"
        raise ConvConfigError(arg.name, f"{arg.name}={value!r} has {len(value)} numbers, but this layer takes {want} "
                              f"({arg.dims}-D)", f"use e.g. {arg.name}={_example(arg)}")
    return value[0] if len(value) == 1 else value


def check_value(arg: Arg, value: Any) -> Any:
    """Check one argument value against its kind and range; return it normalised.

    >>> check_value(LAYER_KINDS["Conv2d"].arg("kernel_size"), (3, 3)), check_value(LAYER_KINDS["Conv1d"].arg("stride"), (4,))
    ((3, 3), 4)
    """
    bad = ConvConfigError(arg.name, f"{value!r} is not a valid {arg.name}", f"use e.g. {arg.name}={_example(arg)}")
    if value is None and (arg.kind in ("optpair", "optbool") or (arg.default is None and not arg.required)):
        return None
    if arg.kind in ("bool", "optbool"):
        if not isinstance(value, bool):
            raise bad
        return value
    if arg.kind == "choice" or (arg.kind == "padding" and isinstance(value, str)):
        choices = arg.choices or ("same", "valid")
        if value not in choices:
            raise ConvConfigError(arg.name, f"'{value}' is not one torch knows for {arg.name}",
                                  "use one of " + ", ".join(repr(c) for c in choices))
        return value
    if arg.kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        value = float(value)
    elif arg.kind in ("count", "dim"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
    elif isinstance(value, tuple) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        value = _check_tuple(arg, value)  # pair, padding, optpair, size
    elif isinstance(value, bool) or not isinstance(value, int):
        raise bad
    for v in value if isinstance(value, tuple) else (value,):
        if v < arg.lo:
            raise ConvConfigError(arg.name, f"{arg.name} {v:g} is below {arg.lo:g}", f"use {arg.name} ≥ {arg.lo:g}")
        if v > arg.hi:
            raise ConvConfigError(arg.name, f"{arg.name} {v:g} is above Conv Lab's cap of {arg.hi:g}",
                                  f"use {arg.name} ≤ {arg.hi:g}")
    return value


def parse_arguments(kind: LayerKind, text: Any) -> dict[str, Any]:
    """Read `name=value, ...` argument text for `kind`; raise ConvConfigError for anything wrong.

    >>> parse_arguments(LAYER_KINDS["Conv2d"], "out_channels=16, kernel_size=(3, 5), padding='same'")
    {'out_channels': 16, 'kernel_size': (3, 5), 'padding': 'same'}
    """
    text = "" if text is None else str(text)
    if len(text) > MAX_ARGUMENT_CHARS:
        raise ConvConfigError("arguments", f"the argument text is {len(text)} characters long",
                              f"keep it under {MAX_ARGUMENT_CHARS} characters")
    names = [a.name for a in kind.args]
    values: dict[str, Any] = {}
    for part in _split_top_level(text):
        name, eq, raw = part.partition("=")
        name = name.strip()
        if not eq:
            example = next((a.name for a in kind.args if a.required), names[0] if names else "")
            raise ConvConfigError("arguments", f"'{part[:30]}' has no name",
                                  f"write name=value, e.g. {example}=…" if example else f"{kind.name} takes no arguments")
        if not _RE_NAME.match(name) or name not in names:
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}? " if close else ""
            takes = f"{kind.name} takes {', '.join(names)}" if names else f"{kind.name} takes no arguments"
            raise ConvConfigError(name[:40] or "arguments", f"{kind.name} has no argument '{name[:40]}'", hint + takes)
        if name in values:
            raise ConvConfigError(name, f"{name} is given twice", "keep one")
        try:
            value = read_value(raw)
        except ValueError:
            raise ConvConfigError(name, f"cannot read '{raw.strip()[:30]}' as a value",
                                  f"use e.g. {name}={_example(kind.arg(name))}") from None
        checked = check_value(kind.arg(name), value)
        if checked is not None:  # None is torch's default wherever it is allowed
            values[name] = checked
    for arg in kind.args:
        if arg.required and arg.name not in values:
            raise ConvConfigError(arg.name, f"{kind.name} needs {arg.name}", f"add {arg.name}={_example(arg)}")
    return ordered(kind, values)


def ordered(kind: LayerKind, values: dict[str, Any]) -> dict[str, Any]:
    """The values in torch's argument order.

    >>> ordered(LAYER_KINDS["Conv2d"], {"kernel_size": 3, "out_channels": 8})
    {'out_channels': 8, 'kernel_size': 3}
    """
    return {a.name: values[a.name] for a in kind.args if a.name in values}
