"""Markdown that puts several blocks in one element: a heading with its code blocks, a formula with its notes.

Every Streamlit element is a message per rerun (~0.3 ms of the server's interpreter, issue 17) and a redraw in the
browser (issue 16), and st.markdown renders fenced code (with the copy icon) and $$ display math itself: a column
that was a heading, two st.code and a line is one st.markdown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]<>$~|#])")
_FENCED = re.compile(r"^(`{3,})[^\n]*\n(.*?)\n\1$", re.S | re.M)  # a fence, its body, the same fence
# What markdown shows as typed: fenced blocks, $$ display math, code spans. Elsewhere a `<` not already escaped (an
# even run of backslashes before it) could open an HTML tag.
_VERBATIM = re.compile(r"^(`{3,})[^\n]*\n.*?\n\1$|^\$\$\n.*?\n\$\$$|(`+)[^`\n]+?\2", re.S | re.M)
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


def no_raw_html(markdown: str) -> str:
    """`markdown` with every `<` outside code and $$ math escaped, so shown with unsafe_allow_html it opens no tag.

    >>> print(no_raw_html("<b>x</b> `<i>` \\<br>"))
    \\<b>x\\</b> `<i>` \\<br>
    """
    out, last = [], 0
    for verbatim in _VERBATIM.finditer(markdown):
        out += [_UNESCAPED_LT.sub(r"\1\\<", markdown[last:verbatim.start()]), verbatim.group()]
        last = verbatim.end()
    return "".join(out) + _UNESCAPED_LT.sub(r"\1\\<", markdown[last:])


def side_by_side(left: str, right: str) -> str:
    """Two markdown texts as one, in two columns (`.cl-side` in the page style: 4 : 3, stacked on a narrow screen).

    Shown with unsafe_allow_html for the columns' <div>s, so the texts get `no_raw_html`. Each sits between blank
    lines, where CommonMark ends an HTML block, so it stays markdown (headings, fenced code, $$ math). Columns cost an
    element each (issue 17).

    >>> print(side_by_side("### Formula", "`x` <b>"))
    <div class="cl-side"><div>
    <BLANKLINE>
    ### Formula
    <BLANKLINE>
    </div><div>
    <BLANKLINE>
    `x` \\<b>
    <BLANKLINE>
    </div></div>
    """
    return f'<div class="cl-side"><div>\n\n{no_raw_html(left)}\n\n</div><div>\n\n{no_raw_html(right)}\n\n</div></div>'
