"""Blocks merged into one st.markdown (conv_lab.render.markdown_blocks): code stays code, text stays text."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from conv_lab.render.markdown_blocks import Code, fenced, formula_markdown, plain, side_by_side

CODE = st.text(alphabet=st.sampled_from("`~ \nab1=()$*_[]<>#|\\"), max_size=60)


def closing_fence(lines: list[str], opening: str) -> int:
    """Index of the line closing a fence opened by `opening` (CommonMark: a line of at least as many backticks,
    indented up to three spaces, nothing else but spaces)."""
    width = len(opening) - len(opening.lstrip("`"))
    return next(i for i, line in enumerate(lines) if i and re.fullmatch(rf" {{0,3}}`{{{width},}} *", line))


@given(CODE, st.sampled_from(["text", "python"]))
def test_a_fenced_block_holds_any_code_exactly_and_only_its_last_line_closes_it(code, language):
    lines = fenced(code, language).split("\n")
    assert lines[0].endswith(language) and set(lines[0][: -len(language)]) == {"`"}
    assert closing_fence(lines, lines[0]) == len(lines) - 1
    assert "\n".join(lines[1:-1]) == code


@given(st.text(max_size=60))
def test_plain_text_escapes_every_markdown_mark_and_unescapes_to_itself(text):
    escaped = plain(text)
    assert re.sub(r"\\(.)", r"\1", escaped, flags=re.S) == text
    assert not re.search(r"(?<!\\)(?:\\\\)*[`*_\[\]<>$~|#]", escaped.replace("\\\\", ""))


def test_a_formula_keeps_its_math_apart_from_its_notes():
    text = formula_markdown(r"H_{out} = 2", "### Formula", ["a [note] with $5 and *stars*"])
    heading, math, notes = text.split("\n\n")
    assert heading == "### Formula" and math == "$$\nH_{out} = 2\n$$"
    assert notes == r":small[:material/warning: a \[note\] with \$5 and \*stars\*]"


TAGGY = st.text(alphabet=st.sampled_from("<>/b `~$\n\\x "), max_size=40)
BLOCKS = st.lists(st.one_of(TAGGY, st.builds(Code, TAGGY)), max_size=4)


def outside_code(text: str, blocks: list) -> list[str]:
    """The lines of `text` that are not inside one of the blocks' fenced code (each fence is known: it was built)."""
    for block in blocks:
        if isinstance(block, Code):
            text = text.replace(fenced(block.text, block.language), "")
    return text.split("\n")


@given(BLOCKS, BLOCKS)
@example(["```"], [Code("```\n<b>")])  # a text fence closed by the code's own line would set <b> free
@example(["$$"], [Code("$$\n<b>")])  # the same with an unclosed math block
@example([], ["\\`<`<"])  # an escaped backtick opens no code span (found by this test in CI)
def test_side_by_side_opens_nothing_from_its_texts(left, right):
    """Shown with unsafe_allow_html, the columns' own <div>s are the only HTML, and no text opens a block that could run
    into the code after it: outside the code blocks every `<` is escaped (an odd run of backslashes before it) or
    inside $$ math, no line opens a fence, and every "$$" line has its closing line."""
    text = side_by_side(left, right)
    for wrapper in ('<div class="cl-side"><div>', "</div><div>", "</div></div>"):
        text = text.replace(wrapper, "", 1)
    math = False
    for line in outside_code(text, left + right):
        if line == "$$":
            math = not math
            continue
        assert not re.match(r" {0,3}(```|~~~|\$\$)", line), line
        assert "<" not in line if math else not re.search(r"(?<!\\)(?:\\\\)*<", line), line
    assert not math


def test_side_by_side_keeps_code_exact_and_math_typeset():
    code, math = Code("if a < b:\n    print('```<b>')", "python"), "### Formula\n\n$$\nH_{out} < 3\n$$"
    text = side_by_side([math], [code, "`x` and <script>"])
    assert fenced(code.text, "python") in text and "$$\nH_{out} \\lt  3\n$$" in text and "`x` and \\<script>" in text
