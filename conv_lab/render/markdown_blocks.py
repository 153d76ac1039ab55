"""Markdown that puts several blocks in one element: a heading with its code blocks, a formula with its notes.

Every Streamlit element is a message per rerun (~0.3 ms of the server's interpreter, issue 17) and a redraw in the
browser (issue 16), and st.markdown renders fenced code (with the copy icon) and $$ display math itself: a column
that was a heading, two st.code and a line is one st.markdown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]<>$~|#])")
_FENCED = re.compile(r"^(`{3,})[^\n]*\n(.*?)\n\1$", re.S | re.M)  # a fence, its body, the same fence
# In markdown text a `<` not already escaped (an even run of backslashes before it) could open an HTML tag (in $$ math
# it is written \lt, which KaTeX reads as the same sign), and a fence (``` or ~~~) or a $$ with no closing line could
# run on into the blocks after it.
_OPENER = re.compile(r"^( {0,3})(`{3}|~{3}|\$\$)")
_UNESCAPED_LT = re.compile(r"(?<!\\)((?:\\\\)*)<")


def fenced(code: str, language: str = "text") -> str:
    """A fenced code block holding `code` exactly: its fence is longer than any run of backticks inside.

    >>> print(fenced("print(1)", "python"))
    ```python
    print(1)
    ```
    >>> fenced("a ``` b").splitlines()[0]
    '````text'
    """
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{code}\n{fence}"


def fenced_blocks(markdown: str) -> list[str]:
    """The bodies of the fenced code blocks in `markdown`, in order: what `fenced` wrapped, given back.

    >>> fenced_blocks("\\n\\n".join(["Run:", fenced("a ``` b", "python"), "then", fenced("y")]))
    ['a ``` b', 'y']
    """
    return [body for _, body in _FENCED.findall(markdown)]


def plain(text: str) -> str:
    """`text` with markdown's punctuation escaped, so it shows as typed (no emphasis, code, links, math, HTML).

    >>> plain("k*2 [note] $x$ <b>")
    'k\\\\*2 \\\\[note\\\\] \\\\$x\\\\$ \\\\<b\\\\>'
    """
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def formula_markdown(latex: str, heading: str = "", notes: Iterable[str] = ()) -> str:
    """A heading, a display formula and a warning line per note, as one markdown text.

    >>> print(formula_markdown(r"H_{out} = 3", "### Formula", ["stride 2 leaves a row unused"]))
    ### Formula
    <BLANKLINE>
    $$
    H_{out} = 3
    $$
    <BLANKLINE>
    :small[:material/warning: stride 2 leaves a row unused]
    """
    blocks = [heading] if heading else []
    blocks.append(f"$$\n{latex}\n$$")
    lines = [f":small[:material/warning: {plain(note)}]" for note in notes]
    if lines:
        blocks.append("  \n".join(lines))
    return "\n\n".join(blocks)


@dataclass(frozen=True)
class Code:
    """A code block for `side_by_side`: shown exactly as written, with Streamlit's copy icon (fenced here).

    >>> Code("x", "py`thon")
    Traceback (most recent call last):
    ValueError: a code block's language is a word like 'python', not 'py`thon'
    """

    text: str
    language: str = "text"

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[\w+-]*", self.language):  # a backtick or a line break in it would undo the fence
            raise ValueError(f"a code block's language is a word like 'python', not {self.language!r}")


def no_raw_html(markdown: str) -> str:
    r"""Markdown text that opens nothing when shown with unsafe_allow_html: no HTML tag (each `<` escaped as `\<`, in
    $$ math written `\lt`), and no fence or math block running past its end (an opener with no closing line is
    escaped). Code is not markdown text: it stays exact only in a `Code` block.

    >>> print(no_raw_html("<b>x</b> \\<br>\n$$\na < b\n$$\n```\n$$"))
    \<b>x\</b> \<br>
    $$
    a \lt  b
    $$
    \```
    \$$
    """
    lines, out, math = markdown.split("\n"), [], False
    for i, line in enumerate(lines):
        if line == "$$" and (math or "$$" in lines[i + 1:]):  # a math block, closed by the first "$$" line after it
            out.append(line)
            math = not math
        elif math:
            out.append(_OPENER.sub(r"\1\\\2", line).replace("<", r"\lt "))
        else:
            out.append(_UNESCAPED_LT.sub(r"\1\\<", _OPENER.sub(r"\1\\\2", line)))
    return "\n".join(out)


def _column(blocks: Iterable[str | Code]) -> str:
    return "\n\n".join(fenced(b.text, b.language) if isinstance(b, Code) else no_raw_html(b) for b in blocks)


def side_by_side(left: Iterable[str | Code], right: Iterable[str | Code]) -> str:
    r"""Two columns of blocks (markdown texts and `Code`) as one markdown text (`.cl-side` in the page style: 4 : 3,
    stacked on a narrow screen).

    Shown with unsafe_allow_html for the columns' <div>s, so every text gets `no_raw_html`, and code is only what a
    `Code` block fences (a fence longer than any backtick run in it: nothing inside can close it). Each column sits
    between blank lines, where CommonMark ends an HTML block, so it stays markdown (headings, code with its copy
    icon, $$ math). Columns cost an element each (issue 17).

    >>> print(side_by_side(["### Formula"], [Code("a < b", "python"), "<b>"]))
    <div class="cl-side"><div>
    <BLANKLINE>
    ### Formula
    <BLANKLINE>
    </div><div>
    <BLANKLINE>
    ```python
    a < b
    ```
    <BLANKLINE>
    \<b>
    <BLANKLINE>
    </div></div>
    """
    return f'<div class="cl-side"><div>\n\n{_column(left)}\n\n</div><div>\n\n{_column(right)}\n\n</div></div>'
