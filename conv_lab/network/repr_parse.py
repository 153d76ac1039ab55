"""Read the text `print(model)` shows into a tree of modules, without evaluating any of it.

The grammar is torch's own repr: a module is `Name(` then either its arguments
on one line (`Conv2d(3, 64, kernel_size=(3, 3), bias=False)`) or one child per
line (`(features): Sequential(`), a collapsed run of equal children
(`(0-2): 3 x ReLU()`), lines a custom module prints about itself, and `)`.
Argument values are read by a small tokenizer (numbers, strings, True/False/None,
words and tuples); nothing is passed to eval, exec or ast. Every problem is a
ReprError in plain words with the line it is on; the text, the nesting and the
number of modules are capped (conv_lab.limits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from conv_lab import limits

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
_CHILD = re.compile(r"\(([^()\s:,=]{1,100})\):[ \t]*(?:(\d{1,6}) x )?")
_RANGE = re.compile(r"^(\d{1,6})-(\d{1,6})$")
_TOKEN = re.compile(r"""\s*(?:(?P<num>[+-]?(?:\d{1,12}(?:\.\d{0,12})?|\.\d{1,12})(?:[eE][+-]?\d{1,3})?)"""
                    r"""|(?P<str>'[^'\\\n]{0,200}'|"[^"\\\n]{0,200}")|(?P<word>[A-Za-z_][A-Za-z0-9_]{0,60})"""
                    r"""|(?P<punct>[()\[\],=]))""")
MAX_VALUE_DEPTH = 4  # tuples inside tuples in one argument
_OPEN, _CLOSE = "([{", ")]}"


class ReprError(ValueError):
    """The text is not something print(model) shows; the message says what and where, in plain words.

    >>> str(ReprError("line 2: a ')' is missing"))
    "line 2: a ')' is missing"
    """


@dataclass(frozen=True)
class Module:
    """One module of the printed tree: its class name, dotted name, arguments or children."""

    kind: str
    name: str  # as named_modules() gives it ("" for the model itself)
    line: int
    args: tuple[Any, ...] = ()  # positional values, as printed
    kwargs: tuple[tuple[str, Any], ...] = ()  # name=value pairs, as printed
    children: tuple[Module, ...] = ()
    extra: tuple[str, ...] = ()  # a container's own lines (a custom extra_repr)
    unreadable: str = ""  # a leaf whose argument text is not a list of values: why

    def leaves(self) -> int:
        """How many modules without children the subtree holds.

        >>> Module("Sequential", "", 1, children=(Module("ReLU", "0", 2), Module("Tanh", "1", 3))).leaves()
        2
        """
        return 1 if not self.children else sum(c.leaves() for c in self.children)


def _child_name(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def _renamed(module: Module, old: str, new: str) -> Module:
    """The subtree with the dotted-name prefix `old` replaced by `new` (copies of a collapsed run)."""
    name = new + module.name[len(old):]
    return replace(module, name=name, children=tuple(_renamed(c, old, new) for c in module.children))


class _Reader:
    def __init__(self, text: str):
        self.text, self.pos, self.count = text, 0, 0

    def line(self, pos: int | None = None) -> int:
        return self.text.count("\n", 0, self.pos if pos is None else pos) + 1

    def fail(self, why: str, pos: int | None = None) -> ReprError:
        return ReprError(f"line {self.line(pos)}: {why}")

    def snippet(self) -> str:
        return self.text[self.pos:self.pos + 30].split("\n")[0]

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def counted(self, n: int) -> None:
        self.count += n
        if self.count > limits.MAX_DEBUG_LAYERS:
            raise self.fail(f"the model has more than {limits.MAX_DEBUG_LAYERS} modules (Conv Lab's cap); "
                            "paste one part of it, e.g. print(model.features)")

    def module(self, name: str, depth: int) -> Module:
        if depth > limits.MAX_DEBUG_DEPTH:
            raise self.fail(f"the model is nested more than {limits.MAX_DEBUG_DEPTH} levels deep (Conv Lab's cap)")
        start = self.pos
        match = _IDENT.match(self.text, self.pos)
        if not match:
            raise self.fail(f"expected a module like Conv2d(…) here, found '{self.snippet()}'")
        self.pos = match.end()
        if self.text[self.pos:self.pos + 1] != "(":
            raise self.fail(f"expected '(' right after {match.group()}, found '{self.snippet()}'")
        self.pos += 1
        children: list[Module] = []
        chunks: list[str] = []
        while True:
            self.skip_space()
            if self.pos >= len(self.text):
                raise self.fail(f"the text ends before {match.group()}( from line {self.line(start)} is closed: "
                                "a ')' is missing (paste the whole printout)")
            if self.text[self.pos] == ")":
                self.pos += 1
                break
            child = _CHILD.match(self.text, self.pos)
            if child:
                self.pos = child.end()
                children.extend(self.children(name, child.group(1), child.group(2), depth))
            else:
                chunks.append(self.chunk())
        self.counted(0 if children else 1)
        if children:
            return Module(match.group(), name, self.line(start), children=tuple(children), extra=tuple(chunks))
        try:
            args, kwargs = read_arguments(", ".join(chunks))
        except ValueError as exc:
            return Module(match.group(), name, self.line(start), unreadable=str(exc))
        return Module(match.group(), name, self.line(start), args, kwargs)

    def children(self, parent: str, key: str, count: str | None, depth: int) -> list[Module]:
        if count is None:
            return [self.module(_child_name(parent, key), depth + 1)]
        span = _RANGE.match(key)
        first, last = (int(span.group(1)), int(span.group(2))) if span else (-1, -2)
        if last - first + 1 != int(count):
            raise self.fail(f"'({key}): {count} x' should name {count} children like (0-{int(count) - 1})")
        self.counted(0)
        one = self.module(_child_name(parent, str(first)), depth + 1)
        self.counted(one.leaves() * (int(count) - 1))
        return [_renamed(one, _child_name(parent, str(first)), _child_name(parent, str(i)))
                for i in range(first, last + 1)]

    def chunk(self) -> str:
        """Text up to the end of its line or the ')' that closes the module, brackets and quotes balanced."""
        start, stack, quote = self.pos, [], ""
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if quote:
                quote = "" if ch == quote else quote
            elif ch in "'\"":
                quote = ch
            elif ch in _OPEN:
                stack.append(_CLOSE[_OPEN.index(ch)])
                if len(stack) > limits.MAX_DEBUG_DEPTH:
                    raise self.fail(f"brackets are nested more than {limits.MAX_DEBUG_DEPTH} deep")
            elif ch in _CLOSE:
                if not stack and ch == ")":
                    break
                if not stack or ch != stack.pop():
                    raise self.fail(f"'{ch}' closes a bracket it does not match")
            elif ch == "\n" and not stack:
                break
            self.pos += 1
        if self.pos >= len(text) and (stack or quote):
            missing = f"a closing {quote}" if quote else f"a '{stack[-1]}'"
            raise self.fail(f"the text ends inside an argument: {missing} is missing", start)
        return text[start:self.pos].strip()


def _tokens(text: str) -> list[tuple[str, str]]:
    found, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise ValueError(f"cannot read '{text[pos:pos + 20].strip()}' as a value")
        found.append(next((k, v) for k, v in match.groupdict().items() if v is not None))
        pos = match.end()
    return found


def _value(tokens: list[tuple[str, str]], i: int, depth: int) -> tuple[Any, int]:
    if i >= len(tokens):
        raise ValueError("a value is missing")
    kind, text = tokens[i]
    if kind == "num":
        return (float(text) if any(c in text for c in ".eE") else int(text)), i + 1
    if kind == "str":
        return text[1:-1], i + 1
    if kind == "word":
        return {"True": True, "False": False, "None": None}.get(text, text), i + 1
    if text not in "([":
        raise ValueError(f"'{text}' where a value should be")
    if depth >= MAX_VALUE_DEPTH:
        raise ValueError("brackets nested too deep in one value")
    close, items, i = ")" if text == "(" else "]", [], i + 1
    while i < len(tokens) and tokens[i][1] != close:
        item, i = _value(tokens, i, depth + 1)
        items.append(item)
        if i < len(tokens) and tokens[i][1] == ",":
            i += 1
        elif i < len(tokens) and tokens[i][1] != close:
            raise ValueError(f"expected ',' or '{close}' in a tuple, found '{tokens[i][1]}'")
    if i >= len(tokens):
        raise ValueError(f"a '{close}' is missing")
    return tuple(items), i + 1


def read_arguments(text: str) -> tuple[tuple[Any, ...], tuple[tuple[str, Any], ...]]:
    """Positional values and name=value pairs from a printed argument list; ValueError when it is not one.

    >>> read_arguments("3, 64, kernel_size=(3, 3), padding=same, eps=1e-05, bias=False")
    ((3, 64), (('kernel_size', (3, 3)), ('padding', 'same'), ('eps', 1e-05), ('bias', False)))
    """
    tokens, args, kwargs, i = _tokens(text), [], [], 0
    while i < len(tokens):
        if tokens[i][0] == "word" and i + 1 < len(tokens) and tokens[i + 1][1] == "=":
            name = tokens[i][1]
            if any(name == k for k, _ in kwargs):
                raise ValueError(f"{name} is given twice")
            value, i = _value(tokens, i + 2, 0)
            kwargs.append((name, value))
        elif kwargs:
            raise ValueError("a value without a name comes after a name=value")
        else:
            value, i = _value(tokens, i, 0)
            args.append(value)
        if i < len(tokens):
            if tokens[i][1] != ",":
                raise ValueError(f"expected ',' between arguments, found '{tokens[i][1]}'")
            i += 1
    return tuple(args), tuple(kwargs)


def parse_repr(text: str) -> Module:
    """The module tree of a printed model; ReprError (plain words, with the line) when the text is not one.

    >>> tree = parse_repr("Sequential(\\n  (0): Linear(in_features=4, out_features=2, bias=True)\\n)")
    >>> tree.children[0].name, dict(tree.children[0].kwargs)["out_features"]
    ('0', 2)
    """
    if not isinstance(text, str) or not text.strip():
        raise ReprError("the text is empty: paste what print(model) shows")
    if len(text) > limits.MAX_DEBUG_TEXT_CHARS:
        raise ReprError(f"the text is {len(text):,} characters long, above Conv Lab's cap of "
                        f"{limits.MAX_DEBUG_TEXT_CHARS:,}; paste one part of the model, e.g. print(model.features)")
    reader = _Reader(text)
    reader.skip_space()
    tree = reader.module("", 0)
    reader.skip_space()
    if reader.pos < len(text):
        raise reader.fail(f"there is more text after the model's last ')': '{reader.snippet()}' — paste only what "
                          "print(model) shows")
    return tree
