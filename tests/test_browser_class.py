"""A live class in real Chromium: a teacher and three students in separate browser contexts."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from conv_lab.classroom import WRONG_KEY, display_code

from conftest import artifact, wait_idle

REFRESH_WAIT = 20_000  # ms: the pages poll the store every 2 s; a loaded 2-core machine may take a few polls


def settle(page) -> None:
    wait_idle(page)
    page.wait_for_function("document.querySelectorAll(\"[data-testid='stSkeleton']\").length === 0")


def join(context, server_url: str, code: str, nickname: str):
    page = context.new_page()
    page.set_viewport_size({"width": 1100, "height": 1400})
    page.set_default_timeout(30_000)
    page.goto(f"{server_url}/class?join={code}")
    settle(page)
    assert page.get_by_label("Class code").input_value() == code  # the join link fills the code in
    page.get_by_label("Nickname (optional)").fill(nickname)
    page.get_by_role("button", name="Join").click()
    page.get_by_text("Waiting for the teacher's first question").wait_for()
    return page


def answer(page, values: tuple[int, int, int]) -> None:
    for label, value in zip(("C_out", "H_out", "W_out"), values):
        page.get_by_role("spinbutton", name=label).fill(str(value))
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_text(f"Your answer: {'×'.join(map(str, values))}").wait_for()


def test_a_teacher_and_three_students(server_url, browser_page, browser):
    teacher = browser_page
    teacher.goto(f"{server_url}/class")
    settle(teacher)
    teacher.get_by_role("button", name="Start a class").click()
    teacher.get_by_text("Code:").wait_for()
    query = parse_qs(urlsplit(teacher.url).query)
    code, key = query["class"][0], query["key"][0]
    teacher.get_by_role("heading", name=f"Live class — {display_code(code)}").wait_for()
    teacher.locator("[data-testid='stImage'] img").first.wait_for()  # the QR code

    contexts = [browser.new_context() for _ in range(3)]
    try:
        students = [join(ctx, server_url, code, name) for ctx, name in zip(contexts, ("Ada", "Ben", "Cy"))]

        teacher.get_by_label("Layer (predict first)").click()  # 3×32×32 → 64×16×16
        teacher.get_by_role("option", name="Halve with stride 2").click()
        teacher.get_by_role("button", name="Show to the class").click()
        settle(teacher)
        for page in students:  # pushed by the students' own refresh, no reload
            page.get_by_text("What shape comes out of this layer?").wait_for(timeout=REFRESH_WAIT)
            settle(page)
        answer(students[0], (64, 16, 16))
        answer(students[1], (64, 15, 15))  # forgot the padding
        answer(students[2], (64, 17, 17))
        answer(students[2], (64, 16, 16))  # changed their mind before the reveal
        students[1].screenshot(path=str(artifact("class_student_answered.png")))
        assert "64×16×16" not in students[1].inner_text("body")  # a student sees only their own answer

        teacher.get_by_text("Right — 2 (67%)").wait_for(timeout=REFRESH_WAIT)
        teacher.get_by_text("forgot the padding — 1 (33%)").wait_for()
        teacher.get_by_text("3 of 3 joined").wait_for()
        assert "64×17×17" not in teacher.inner_text("body")  # the changed answer no longer counts
        teacher.screenshot(path=str(artifact("class_teacher_tally.png")))

        teacher.get_by_role("button", name="Reveal").click()
        teacher.get_by_text("the real PyTorch result").wait_for(timeout=REFRESH_WAIT)
        for page in students:
            page.get_by_text("The real PyTorch result:").wait_for(timeout=REFRESH_WAIT)
            page.get_by_text("torch.Size([1, 64, 16, 16])").first.wait_for()
        students[1].get_by_text("you probably forgot the padding").wait_for()
        settle(students[1])
        students[1].screenshot(path=str(artifact("class_student_revealed.png")))
        teacher.screenshot(path=str(artifact("class_teacher_revealed.png")))

        nosy = students[0]  # a curious student tries the teacher's views
        for url in (f"{server_url}/class?class={code}&teacher=1", f"{server_url}/class?class={code}&key={key[:-3]}abc",
                    f"{server_url}/class?class={code}&key={code}",
                    f"{server_url}/practice?seed=42&level=1&teacher=1&class={code}&key=guess",
                    f"{server_url}/practice?seed=42&level=1&teacher=1"):
            nosy.goto(url)
            settle(nosy)
            text = nosy.inner_text("body")
            assert "64×15×15" not in text and "Reveal" not in text and "Answered" not in text
            assert nosy.locator("[data-testid='stTable']").count() == 0
            if "/class" in url:
                assert WRONG_KEY in text
            else:
                assert "The answers stay hidden" in text
        nosy.screenshot(path=str(artifact("class_guessed_key.png")))
    finally:
        for ctx in contexts:
            ctx.close()
