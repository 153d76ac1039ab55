"""Blocks merged into one st.markdown (conv_lab.render.markdown_blocks): code stays code, text stays text."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from conv_lab.render.markdown_blocks import fenced, formula_markdown, plain, side_by_side

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


TAGGY = st.text(alphabet=st.sampled_from("<>/b `$\n\\x"), max_size=60)


@given(TAGGY, TAGGY)
def test_side_by_side_lets_no_tag_through_from_its_texts(left, right):
    """Shown with unsafe_allow_html, the columns' own <div>s are the only HTML: every other `<` that markdown would
    read as the start of a tag is escaped (an odd run of backslashes before it)."""
    text = side_by_side(left, right)
    inner = text.removeprefix('<div class="cl-side"><div>\n\n').removesuffix("\n\n</div></div>")
    for part, given_text in zip(inner.split("\n\n</div><div>\n\n"), (left, right)):
        assert part.replace("\\<", "<") == given_text.replace("\\<", "<")  # only backslashes added, before a <
        outside = re.sub(r"^(`{3,})[^\n]*\n.*?\n\1$|^\$\$\n.*?\n\$\$$|(`+)[^`\n]+?\2", "", part, flags=re.S | re.M)
        assert not re.search(r"(?<!\\)(?:\\\\)*<", outside), part


def test_side_by_side_keeps_code_and_math_as_written():
    code, math = fenced("if a < b:\n    print('<b>')", "python"), "$$\nH_{out} < 3\n$$"
    text = side_by_side(f"### Formula\n\n{math}", f"{code}\n\n`x<y` and <script>")
    assert math in text and code in text and "`x<y` and \\<script>" in text
