"""URL options as tables, read by one tolerant parser (in the spirit of TensorFlow Playground's state.ts).

The layer's parameters and every page's own options are declared as rows of `Option`s. One
parser reads any table from query params: the last of a repeated key wins, one rule for whole
numbers, one for booleans, one for choices; a value out of range is clamped and a bad one falls
back to its default, each with a notice that names it. Nothing here raises: every value may come
from a hostile URL. `options_query` writes a table back as the short query of a share link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Union

from conv_lab import limits

QueryValue = Union[str, list, tuple, None]
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
KINDS = ("int", "pair", "sizes", "bool", "choice", "float", "text", "cell")
_WHOLE = re.compile(r"^\s*[+-]?\d{1,12}\s*$")
_NUMBER = re.compile(r"^\s*\d{1,6}(\.\d{1,6})?\s*$")
_SEPARATORS = re.compile(r"[x×,*]")


@dataclass(frozen=True)
class Option:
    """One URL option: its key, kind, default, range or choices, and how a control shows it.

    >>> Option("stride", "pair", 1, 1, 8, label="Stride").name
    'stride'
    """

    key: str  # the URL key
    kind: str  # one of KINDS
    default: Any
    lo: float = 0  # int, pair, float: the range a value is clamped to; text: unused
    hi: float = 0  # int, pair, float: upper end (a parse may narrow it: filters of this layer); text: max chars
    label: str = ""
    help: str = ""
    choices: tuple = ()  # choice: the allowed words; float: the allowed values (the nearest is taken)
    words: tuple = ()  # pair: words allowed besides numbers (padding: same, valid)
    field: str = ""  # attribute of the settings object it fills; default: the key
    always: bool = False  # written to share links even at its default
    his: tuple = ()  # sizes: the upper end by dimension (1-D, 2-D, 3-D); the input's count of values sets it

    @property
    def name(self) -> str:
        """The settings attribute this option fills.

        >>> Option("filters", "int", 16, field="out_channels").name
        'out_channels'
        """
        return self.field or self.key


def last_value(value: QueryValue) -> tuple[str, bool]:
    """The last value of a possibly repeated key (as text), and whether it was repeated.

    >>> last_value(["1", "2"]), last_value(None), last_value("3")
    (('2', True), ('', False), ('3', False))
    """
    if isinstance(value, (list, tuple)):
        return (str(value[-1]) if value else ""), len(value) > 1
    return ("" if value is None else str(value)), False


def parse_bool(raw: str) -> bool | None:
    """1/true/yes/on or 0/false/no/off (any case); None for anything else.

    >>> parse_bool("Yes"), parse_bool("0"), parse_bool("maybe")
    (True, False, None)
    """
    text = raw.strip().lower()
    return True if text in TRUE_WORDS else False if text in FALSE_WORDS else None


def parse_whole(raw: str) -> int | None:
    """A whole number written plainly (sign allowed, at most 12 digits); None otherwise.

    >>> parse_whole(" +7 "), parse_whole("-3"), parse_whole("1e9")
    (7, -3, None)
    """
    return int(raw) if _WHOLE.match(raw) else None


def clamp(option: Option, raw: str, value: float, notices: list[str], hi: float | None = None) -> float:
    """`value` within the option's range (or lo..hi when given), with a notice naming the key when it moved.

    >>> notes = []; clamp(Option("level", "int", 1, 1, 5), "9", 9, notes), notes
    (5, ['level=9 must be between 1 and 5; using 5'])
    """
    top = option.hi if hi is None else hi
    if option.lo <= value <= top:
        return value
    moved = min(max(value, option.lo), top)
    notices.append(f"{option.key}={raw.strip()} must be between {_number(option.lo)} and {_number(top)}; "
                   f"using {_number(moved)}")
    return moved


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _bad(option: Option, raw: str, what: str, notices: list[str]) -> None:
    notices.append(f"{option.key}={raw.strip()[:40]!r} is not {what}; using the default")


def parse_value(option: Option, raw: str, notices: list[str], hi: float | None = None, shown: str | None = None) -> Any:
    """One option's value from its URL text; None (and a notice) when it cannot be used.

    `shown`: the text notices quote (the whole value, when `raw` is this option's part of a shared key).

    >>> notes = []; kernel, bias = Option("kernel", "pair", 3, 1, 15), Option("bias", "bool", True)
    >>> parse_value(kernel, "3x5", notes), parse_value(bias, "no", notes)
    ((3, 5), False)
    >>> parse_value(Option("op", "choice", "conv", choices=("conv", "max")), "MAX", notes), notes
    ('max', [])
    """
    text, raw = raw.strip(), raw if shown is None else shown
    if option.kind == "int":
        whole = parse_whole(text)
        if whole is None:
            return _bad(option, raw, "a whole number", notices)
        return int(clamp(option, raw, whole, notices, hi))
    if option.kind == "pair":
        if text.lower() in option.words:
            return text.lower()
        parts = _SEPARATORS.split(text.lower())
        wholes = [parse_whole(p) for p in (parts * 2 if len(parts) == 1 else parts)]
        if len(wholes) != 2 or None in wholes:
            return _bad(option, raw, "a size like 3 or 3x5" + "".join(f" or '{w}'" for w in option.words), notices)
        return tuple(int(clamp(option, raw, v, notices, hi)) for v in wholes)
    if option.kind == "sizes":  # 1 to 3 values: one per spatial dimension, or one for all of them
        if text.lower() in option.words:
            return text.lower()
        wholes = [parse_whole(p) for p in _SEPARATORS.split(text.lower())]
        if not 1 <= len(wholes) <= 3 or None in wholes:
            return _bad(option, raw, "a size like 3, 3x5 or 3x3x5" + "".join(f" or '{w}'" for w in option.words),
                        notices)
        top = hi if hi is not None or not option.his else option.his[len(wholes) - 1]
        return tuple(int(clamp(option, raw, v, notices, top)) for v in wholes)
    if option.kind == "bool":
        flag = parse_bool(text)
        return _bad(option, raw, "1 or 0", notices) if flag is None else flag
    if option.kind == "choice":
        if text.lower() in option.choices:
            return text.lower()
        return _bad(option, raw, "one of " + ", ".join(map(str, option.choices)), notices)
    if option.kind == "float":
        if not _NUMBER.match(text):
            return _bad(option, raw, "a number", notices)
        value = float(text)
        if option.choices:
            return min(option.choices, key=lambda c: abs(c - value))
        return clamp(option, raw, value, notices, hi)
    if option.kind == "cell":  # "row,col" within (hi rows, lo cols) given by the caller
        parts = re.split(r"[,;x×]", text)
        cell = [parse_whole(p) for p in parts]
        if len(cell) != 2 or None in cell:
            return _bad(option, raw, "a cell like 2,3", notices)
        return cell[0], cell[1]
    if len(text) > option.hi:  # text
        notices.append(f"{option.key}= is {len(text)} characters long (cap {option.hi:g}); using the default")
        return None
    return text


def parse_options(table: Iterable[Option], params: Mapping[str, QueryValue], notices: list[str],
                  bounds: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Every option of `table` that the query carries and that can be used, by settings name; never raises.

    `bounds` narrows an option's upper end for this parse (the filters this layer has), by key. Rows that
    share a key read one value split at 'x', filled from the right (`input=3x32x32`: channels, then H×W).

    >>> table = (Option("op", "choice", "conv", choices=("conv", "max")),
    ...          Option("filter", "int", 0, 0, 99, field="filter_index"))
    >>> notes = []; parse_options(table, {"op": ["avg", "max"], "filter": "9"}, notes, {"filter": 3})
    {'op': 'max', 'filter_index': 3}
    >>> notes
    ['op was given more than once; using the last value', 'filter=9 must be between 0 and 3; using 3']
    """
    values: dict[str, Any] = {}
    groups: dict[str, list[Option]] = {}
    for option in table:
        groups.setdefault(option.key, []).append(option)
    for key, rows in groups.items():
        if key not in params:
            continue
        raw, repeated = last_value(params[key])
        if len(raw) > max(limits.MAX_URL_VALUE_CHARS, rows[0].hi if rows[0].kind == "text" else 0):
            notices.append(f"{key}= is {len(raw)} characters long; using the default")
            continue
        if repeated:
            notices.append(f"{key} was given more than once; using the last value")
        if not raw.strip():
            continue
        for option, text in _share(rows, raw, notices):
            value = parse_value(option, text, notices, (bounds or {}).get(key), raw if len(rows) > 1 else None)
            if value is not None:
                values[option.name] = value
    return values


def _share(rows: list[Option], raw: str, notices: list[str]) -> list[tuple[Option, str]]:
    """Each row's part of a shared key's value, filled from the right; [] with a notice when it does not fit."""
    if len(rows) == 1:
        return [(rows[0], raw)]
    parts, found = _SEPARATORS.split(raw.strip().lower()), []
    for i, option in enumerate(reversed(rows)):
        take = 2 if option.kind == "pair" else 1
        if option.kind == "sizes":  # all the parts the rows before it leave (input=CxL, CxHxW or CxDxHxW)
            take = len(parts) - sum(2 if r.kind == "pair" else 1 for r in rows[:len(rows) - 1 - i])
        if take < 1 or len(parts) < take:
            break
        found.append((option, "x".join(parts[-take:])))
        parts = parts[:-take]
    if parts or not found or not all(parse_whole(p) is not None for _, text in found for p in text.split("x")):
        example = "x".join(to_text(option, option.default, full=True) for option in rows)
        notices.append(f"{rows[0].key}={raw.strip()[:40]!r} is not like {example}; using the default")
        return []
    return found[::-1]


def to_text(option: Option, value: Any, full: bool = False) -> str:
    """A value as its URL text (the inverse of `parse_value`); `full` writes a square pair as 3x3.

    >>> kernel = Option("kernel", "pair", 3)
    >>> to_text(kernel, (3, 3)), to_text(kernel, (3, 5)), to_text(Option("relu", "bool", False), True)
    ('3', '3x5', '1')
    """
    if option.kind == "bool":
        return "1" if value else "0"
    if option.kind == "pair" and isinstance(value, tuple):
        return str(value[0]) if value[0] == value[1] and not full else f"{value[0]}x{value[1]}"
    if option.kind == "pair" and isinstance(value, int) and full:
        return f"{value}x{value}"
    if option.kind == "sizes" and isinstance(value, tuple):  # one number when every dimension agrees
        return str(value[0]) if len(set(value)) == 1 and not full else "x".join(map(str, value))
    if option.kind == "cell":
        return f"{value[0]},{value[1]}"
    if option.kind == "float":
        return f"{value:g}"
    return str(value)


def options_query(table: Iterable[Option], settings: Any) -> dict[str, str]:
    """The query params of a share link: options that differ from their default, and those marked `always`.

    >>> options_query((Option("op", "choice", "conv"), Option("step", "int", 1, always=True)), {"op": "conv", "step": 4})
    {'step': '4'}
    """
    get = settings.get if isinstance(settings, Mapping) else lambda name: getattr(settings, name)
    groups: dict[str, list[Option]] = {}
    for option in table:
        groups.setdefault(option.key, []).append(option)
    out = {}
    for key, rows in groups.items():
        full = len(rows) > 1  # a shared key writes every part (input=3x32x32)
        text = "x".join(to_text(option, get(option.name), full) for option in rows)
        default = "x".join(to_text(option, option.default, full) for option in rows)
        if any(option.always for option in rows) or text != default:
            out[key] = text
    return out


def option_defaults(table: Iterable[Option]) -> dict[str, Any]:
    """Each option's default by settings name (the fields of a page's settings class take them from here).

    >>> option_defaults((Option("op", "choice", "conv"), Option("filter", "int", 0, field="filter_index")))
    {'op': 'conv', 'filter_index': 0}
    """
    return {option.name: option.default for option in table}


def option_keys(*tables: Iterable[Option]) -> tuple[str, ...]:
    """The URL keys of some tables, in order, once each.

    >>> option_keys((Option("a", "int", 0), Option("b", "int", 0)), (Option("a", "int", 0),))
    ('a', 'b')
    """
    return tuple(dict.fromkeys(option.key for table in tables for option in table))
