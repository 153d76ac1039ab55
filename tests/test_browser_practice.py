"""A real Chromium plays two practice questions (one right, one wrong) and opens the teacher view."""

from __future__ import annotations

from conv_lab.classroom import shared_store
from conv_lab.core.state import share_query_string
from conv_lab.practice.questions import question_set

from conftest import artifact, wait_idle


def _two_shape_questions(level: int = 1):
    """A seed whose first two questions are layers that run (so both are answered with three numbers)."""
    for seed in range(100, 400):
        first, second = question_set(seed, level, 2)
        if not first.fails and not second.fails:
            return seed, first, second
    raise AssertionError("no seed found")


def _answer(page, shape) -> None:
    for label, value in zip(("C_out", "H_out", "W_out"), shape):
        page.get_by_role("spinbutton", name=label).fill(str(value))
    page.get_by_role("button", name="Check my answer").click()
    wait_idle(page)


def test_a_student_plays_two_questions_and_a_teacher_sees_the_answers(server_url, browser_page):
    page = browser_page
    seed, first, second = _two_shape_questions()
    page.goto(f"{server_url}/practice?seed={seed}&level=1")
    page.get_by_text("Question 1 — level 1").wait_for()
    wait_idle(page)
    page.get_by_text(f"layer = nn.Conv2d({first.layers[0].in_channels}, {first.layers[0].out_channels}").wait_for()
    page.screenshot(path=str(artifact("practice_question.png")))

    _answer(page, first.answer_shape)
    page.get_by_text("Right!").wait_for()

    page.get_by_role("button", name="Next question →").click()
    page.get_by_text("Question 2 — level 1").wait_for()
    wait_idle(page)
    assert "n=2" in page.url and f"seed={seed}" in page.url
    c, h, w = second.answer_shape
    _answer(page, (c, h - 1, w))  # stride 1 at level 1: one less is "forgot the + 1"
    page.get_by_text("Not quite.").wait_for()
    assert page.get_by_text("forgot the + 1 at the end").first.is_visible()
    assert page.locator(".katex").count() >= 3  # the formula rendered with the question's numbers
    query = share_query_string(second.layers[0])
    assert page.locator(f'a[href="/?{query}"]').count() == 1
    assert page.locator(f'a[href="/sweep?{query}"]').count() == 1
    assert page.get_by_text("1 / 2", exact=True).is_visible()  # score: one right of two
    page.screenshot(path=str(artifact("practice_wrong_answer.png")))

    page.get_by_text("Teacher view").click()  # a student's tab: no teacher key, no answers
    wait_idle(page)
    page.get_by_text("The answers stay hidden").wait_for()
    assert "teacher=1" in page.url and page.locator("[data-testid='stTable']").count() == 0
    code, key = shared_store().create_class()  # the server shares this test's store (CONVLAB_DATABASE_URL)
    page.goto(f"{page.url}&class={code}&key={key}")
    page.get_by_text(f"Teacher view — all answers, seed {seed}, level 1").wait_for()
    wait_idle(page)
    table = page.locator("[data-testid='stTable']")
    for q in question_set(seed, 1):
        table.get_by_text(q.summary, exact=True).wait_for()
        table.get_by_text(q.answer_text, exact=True).first.wait_for()
    table.scroll_into_view_if_needed()
    page.screenshot(path=str(artifact("practice_teacher_view.png")))
