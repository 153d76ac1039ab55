"""A short text grammar that carries a planned network in a share link (`net=` and `skip=`), parsed without eval.

    net  = I1x32x32-C6k5-R-A2-C16k5-R-A2-F-L120-R-L84-R-L10
    skip = c9.15x-a4.9

`I` is the input C×L, C×H×W or C×D×H×W (with `n2` for a batch of 2). Each
layer is its code letter, with 1 or 3 before it for a 1-D or 3-D layer (1C =
Conv1d, 3M = MaxPool3d; a bare C is Conv2d, so 2-D links read as they always
did), its main argument right after it (C16 = out_channels=16), then one
lower-case letter per other argument (k kernel_size, s stride, p padding, ...).
Values: 3, 3x5 or 1x2x2 (one per dimension), 0.5, N1 (= −1), 1/0 (True/False)
or an upper-case letter for a word (pS = padding='same', pC = 'causal'), e.g.
    net  = I1x16000-1C32k2pC-1C32k2d2pC-R   (1-D, causal)
    net  = I3x16x112x112-3C64k3p1-R-3M1x2x2 (3-D)
A skip is c (cat) or a (add),
from.to, and x for a centre crop. Every value goes through the same checks as
the table; a bad token becomes a row with a message, never an exception.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from conv_lab import limits
from conv_lab.core.code import argument_text
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.options import Option
from conv_lab.network.flow import Skip
from conv_lab.network.layers import KIND_BY_CODE, LAYER_KINDS, Arg, LayerKind, check_value, ordered
from conv_lab.network.plan import Row

WORD_CODES = {"padding": {"same": "S", "valid": "V", "causal": "C"},
              "padding_mode": {"zeros": "Z", "reflect": "R", "replicate": "P", "circular": "C"},
              "mode": {"nearest": "N", "linear": "L", "bilinear": "B", "bicubic": "C", "trilinear": "T"}}
MAX_SKIP_CHARS = 200
_NUM = r"(?:\d{1,7}(?:x\d{1,7}){1,2}|N?\d{1,7}(?:\.\d{1,6})?)"
_VALUE = rf"(?:{_NUM}|[A-Z])"
_TOKEN = re.compile(rf"^([1-3]?[A-Z])({_NUM})?((?:[a-z]{_VALUE})*)$")
_PAIRS = re.compile(rf"([a-z])({_VALUE})")
_INPUT = re.compile(r"^I(\d{1,5})((?:x\d{1,5}){1,3})(?:n(\d{1,3}))?$")
_SIZE_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
_SKIP = re.compile(r"^([ca])(\d{1,3})\.(\d{1,3})(x?)$")
RF_CHARS = 40  # an rf= value longer than this is refused (network.receptive.choose)

# The planner's share link: the stack and its skips, each in the compact syntax this module reads.
NETWORK_OPTIONS = (
    Option("net", "text", "", hi=limits.MAX_NETWORK_URL_CHARS, label="Network", help="input and layers, e.g. I1x28x28-C6k5"),
    Option("skip", "text", "", hi=limits.MAX_NETWORK_URL_CHARS, label="Skip connections", help="e.g. c2-5"),
    Option("rf", "text", "", hi=RF_CHARS, label="Receptive-field cell",
           help="a cell of a layer's output: 3,5 (one index per spatial dimension) on the last map, 3,5@7 on layer 7"),
)


def _encode_value(arg: Arg, value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return WORD_CODES[arg.name][value]
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return f"N{-value}" if value < 0 else str(value)


def _decode_value(arg: Arg, text: str) -> Any:
    if text.isalpha() and text.isupper():
        words = {v: k for k, v in WORD_CODES.get(arg.name, {}).items()}
        if text not in words:
            raise ValueError(f"'{text}' is not a word code for {arg.name}")
        return words[text]
    if arg.kind in ("bool", "optbool"):
        if text not in ("0", "1"):
            raise ValueError(f"{arg.name} takes 1 or 0, not '{text}'")
        return text == "1"
    if "x" in text:
        return tuple(int(v) for v in text.split("x"))
    sign, digits = (-1, text[1:]) if text.startswith("N") else (1, text)
    if arg.kind == "float" or "." in digits:
        return sign * float(digits)
    return sign * int(digits)


def encode_layer(kind_name: str, values: dict[str, Any]) -> str:
    """One layer as a token.

    >>> encode_layer("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": "same"})
    'C16k3pS'
    """
    kind = LAYER_KINDS[kind_name]
    token = kind.url_code
    if kind.primary and values.get(kind.primary) is not None:
        token += _encode_value(kind.arg(kind.primary), values[kind.primary])
    for arg in kind.args:
        if arg.name != kind.primary and values.get(arg.name) is not None:
            token += arg.code + _encode_value(arg, values[arg.name])
    return token


def decode_layer(token: str) -> tuple[str, dict[str, Any]]:
    """A token back to (layer name, values); ValueError with plain words when it is not one.

    >>> decode_layer("M3s2p1"), decode_layer("3M1x2x2")
    (('MaxPool2d', {'kernel_size': 3, 'stride': 2, 'padding': 1}), ('MaxPool3d', {'kernel_size': (1, 2, 2)}))
    """
    match = _TOKEN.match(token)
    if not match:
        raise ValueError("not a layer token like C16k3p1")
    code = match.group(1)[1:] if match.group(1).startswith("2") else match.group(1)  # 2C is C, as it is written
    kind: LayerKind | None = KIND_BY_CODE.get(code)
    if kind is None:
        letters = "".join(k.code for k in KIND_BY_CODE.values() if k.dims in (0, 2))
        sized = ", ".join(k.code for k in KIND_BY_CODE.values() if k.dims == 1)
        if code[1:] in KIND_BY_CODE and KIND_BY_CODE[code[1:]].dims == 0:
            raise ValueError(f"{KIND_BY_CODE[code[1:]].name} has no 1-D or 3-D form: write '{code[1:]}' without the "
                             f"{code[0]}")
        raise ValueError(f"'{code}' is not a layer code (use one of {letters}; 1 or 3 before {sized} for 1-D or 3-D)")
    values: dict[str, Any] = {}
    items = ([(kind.primary, match.group(2))] if match.group(2) else []) if kind.primary else []
    if match.group(2) and not kind.primary:
        raise ValueError(f"{kind.name} takes no main value")
    by_code = {a.code: a.name for a in kind.args if a.code}
    for letter, text in _PAIRS.findall(match.group(3)):
        if letter not in by_code:
            raise ValueError(f"{kind.name} has no argument letter '{letter}'")
        items.append((by_code[letter], text))
    for name, text in items:
        try:
            values[name] = check_value(kind.arg(name), _decode_value(kind.arg(name), text))
        except ConvConfigError as exc:
            raise ValueError(f"{exc.why}: {exc.fix}") from None
    return kind.name, ordered(kind, values)


def encode_network(input_shape: Sequence[int], layers: Sequence[Any]) -> str:
    """The `net=` value for an input (N, C, *sizes) and parsed layers ((name, values); unparseable rows are left out).

    >>> encode_network((1, 1, 32, 32), [("Conv2d", {"out_channels": 6, "kernel_size": 5}), ("ReLU", {})])
    'I1x32x32-C6k5-R'
    >>> encode_network((2, 1, 16000), [("Conv1d", {"out_channels": 8, "kernel_size": 2, "padding": "causal"})])
    'I1x16000n2-1C8k2pC'
    """
    n, *sizes = input_shape
    parts = ["I" + "x".join(str(v) for v in sizes) + (f"n{n}" if n != 1 else "")]
    parts += [encode_layer(*layer) for layer in layers if isinstance(layer, tuple)]
    return "-".join(parts)


def decode_network(text: Any, default_input: Sequence[int] = (1, 3, 32, 32)
                   ) -> tuple[tuple[int, ...], list[Row], list[str]]:
    """Input shape, table rows and notices from a `net=` value; never raises.

    >>> shape, rows, notices = decode_network("I1x28x28-C8k3-Z9")
    >>> rows
    [('Conv2d', 'out_channels=8, kernel_size=3'), ('Z9', '')]
    >>> print(notices[0])
    net: layer 2 'Z9': 'Z' is not a layer code (use one of CTMAGXBRDUFL; 1 or 3 before C, T, M, A, G, X, B for 1-D or 3-D)
    >>> decode_network("I2x1000-1C4k3")[:2]
    ((1, 2, 1000), [('Conv1d', 'out_channels=4, kernel_size=3')])
    """
    text, notices = str(text or ""), []
    if len(text) > limits.MAX_NETWORK_URL_CHARS:
        cap = limits.MAX_NETWORK_URL_CHARS
        return tuple(default_input), [], [f"net= is {len(text)} characters long (cap {cap}); ignored"]
    tokens = [t for t in text.strip().split("-") if t]
    shape = list(default_input)
    if tokens and tokens[0].startswith("I"):
        match = _INPUT.match(tokens.pop(0))
        if not match:
            notices.append("net: the input token is not like I3x32x32 (C×H×W), I1x16000 (C×L) or I3x16x112x112 "
                           "(C×D×H×W); using the default input")
        else:
            sizes = [int(v) for v in match.group(2)[1:].split("x")]
            dims = len(sizes)
            caps = (limits.MAX_BATCH, limits.MAX_CHANNELS, *(limits.MAX_SPATIAL_BY_DIMS[dims],) * dims)
            wanted = [int(match.group(3) or 1), int(match.group(1)), *sizes]
            shape = []
            for name, v, cap in zip(("batch", "channels", *_SIZE_NAMES[dims]), wanted, caps):
                shape.append(min(max(v, 1), cap))
                if shape[-1] != v:
                    notices.append(f"net: input {name} {v} is outside 1..{cap}; using {shape[-1]}")
    if len(tokens) > limits.MAX_NETWORK_LAYERS:
        notices.append(f"net: only the first {limits.MAX_NETWORK_LAYERS} of {len(tokens)} layers are used")
        tokens = tokens[:limits.MAX_NETWORK_LAYERS]
    rows: list[Row] = []
    for i, token in enumerate(tokens, start=1):
        try:
            name, values = decode_layer(token)
            rows.append((name, argument_text(values)))
        except ValueError as exc:
            rows.append((token[:40], ""))
            notices.append(f"net: layer {i} '{token[:40]}': {exc}")
    return tuple(shape), rows, notices


def encode_skips(skips: Sequence[Skip]) -> str:
    """The `skip=` value.

    >>> encode_skips([Skip("cat", 9, 15, True), Skip("add", 4, 9)])
    'c9.15x-a4.9'
    """
    return "-".join(f"{s.mode[0]}{s.source}.{s.target}{'x' if s.crop else ''}" for s in skips)


def decode_skips(text: Any) -> tuple[list[Skip], list[str]]:
    """Skips and notices from a `skip=` value; never raises.

    >>> decode_skips("c9.15x-q1")
    ([Skip(mode='cat', source=9, target=15, crop=True)], ["skip: 'q1' is not like c9.15x (cat from point 9 to 15, cropped)"])
    """
    text, skips, notices = str(text or ""), [], []
    if len(text) > MAX_SKIP_CHARS:
        return [], [f"skip= is {len(text)} characters long (cap {MAX_SKIP_CHARS}); ignored"]
    for token in [t for t in text.split("-") if t][:limits.MAX_NETWORK_SKIPS]:
        match = _SKIP.match(token)
        if not match:
            notices.append(f"skip: '{token[:30]}' is not like c9.15x (cat from point 9 to 15, cropped)")
            continue
        skips.append(Skip("cat" if match.group(1) == "c" else "add", int(match.group(2)), int(match.group(3)),
                          bool(match.group(4))))
    return skips, notices
