"""A short text grammar that carries a planned network in a share link (`net=` and `skip=`), parsed without eval.

    net  = I1x32x32-C6k5-R-A2-C16k5-R-A2-F-L120-R-L84-R-L10
    skip = c9.15x-a4.9

`I` is the input C×H×W (with `n2` for a batch of 2). Each layer is its code
letter, its main argument right after it (C16 = Conv2d out_channels=16), then
one lower-case letter per other argument (k kernel_size, s stride, p padding,
...). Values: 3, 3x5 (pair), 0.5, N1 (= −1), 1/0 (True/False) or an upper-case
letter for a word (pS = padding='same'). A skip is c (cat) or a (add),
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

WORD_CODES = {"padding": {"same": "S", "valid": "V"},
              "padding_mode": {"zeros": "Z", "reflect": "R", "replicate": "P", "circular": "C"},
              "mode": {"nearest": "N", "bilinear": "B", "bicubic": "C"}}
MAX_SKIP_CHARS = 200
_NUM = r"(?:\d{1,7}x\d{1,7}|N?\d{1,7}(?:\.\d{1,6})?)"
_VALUE = rf"(?:{_NUM}|[A-Z])"
_TOKEN = re.compile(rf"^([A-Z])({_NUM})?((?:[a-z]{_VALUE})*)$")
_PAIRS = re.compile(rf"([a-z])({_VALUE})")
_INPUT = re.compile(r"^I(\d{1,5})x(\d{1,5})x(\d{1,5})(?:n(\d{1,3}))?$")
_SKIP = re.compile(r"^([ca])(\d{1,3})\.(\d{1,3})(x?)$")

# The planner's share link: the stack and its skips, each in the compact syntax this module reads.
NETWORK_OPTIONS = (
    Option("net", "text", "", hi=limits.MAX_NETWORK_URL_CHARS, label="Network", help="input and layers, e.g. I1x28x28-C6k5"),
    Option("skip", "text", "", hi=limits.MAX_NETWORK_URL_CHARS, label="Skip connections", help="e.g. c2-5"),
)


def _encode_value(arg: Arg, value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return WORD_CODES[arg.name][value]
    if isinstance(value, tuple):
        return f"{value[0]}x{value[1]}"
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
        h, w = text.split("x")
        return int(h), int(w)
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
    token = kind.code
    if kind.primary and values.get(kind.primary) is not None:
        token += _encode_value(kind.arg(kind.primary), values[kind.primary])
    for arg in kind.args:
        if arg.name != kind.primary and values.get(arg.name) is not None:
            token += arg.code + _encode_value(arg, values[arg.name])
    return token


def decode_layer(token: str) -> tuple[str, dict[str, Any]]:
    """A token back to (layer name, values); ValueError with plain words when it is not one.

    >>> decode_layer("M3s2p1")
    ('MaxPool2d', {'kernel_size': 3, 'stride': 2, 'padding': 1})
    """
    match = _TOKEN.match(token)
    if not match:
        raise ValueError("not a layer token like C16k3p1")
    kind: LayerKind | None = KIND_BY_CODE.get(match.group(1))
    if kind is None:
        raise ValueError(f"'{match.group(1)}' is not a layer code (use one of {''.join(KIND_BY_CODE)})")
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
    """The `net=` value for an input and parsed layers ((name, values); unparseable rows are left out).

    >>> encode_network((1, 1, 32, 32), [("Conv2d", {"out_channels": 6, "kernel_size": 5}), ("ReLU", {})])
    'I1x32x32-C6k5-R'
    """
    n, c, h, w = input_shape
    parts = [f"I{c}x{h}x{w}" + (f"n{n}" if n != 1 else "")]
    parts += [encode_layer(*layer) for layer in layers if isinstance(layer, tuple)]
    return "-".join(parts)


def decode_network(text: Any, default_input: Sequence[int] = (1, 3, 32, 32)
                   ) -> tuple[tuple[int, ...], list[Row], list[str]]:
    """Input shape, table rows and notices from a `net=` value; never raises.

    >>> shape, rows, notices = decode_network("I1x28x28-C8k3-Z9")
    >>> rows
    [('Conv2d', 'out_channels=8, kernel_size=3'), ('Z9', '')]
    >>> notices
    ["net: layer 2 'Z9': 'Z' is not a layer code (use one of CTMAGBRDUFL)"]
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
            notices.append("net: the input token is not like I3x32x32; using the default input")
        else:
            caps = (limits.MAX_BATCH, limits.MAX_CHANNELS, limits.MAX_SPATIAL, limits.MAX_SPATIAL)
            wanted = [int(match.group(4) or 1), *(int(match.group(i)) for i in (1, 2, 3))]
            for i, (name, v, cap) in enumerate(zip(("batch", "channels", "height", "width"), wanted, caps)):
                shape[i] = min(max(v, 1), cap)
                if shape[i] != v:
                    notices.append(f"net: input {name} {v} is outside 1..{cap}; using {shape[i]}")
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
