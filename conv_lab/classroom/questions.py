"""The questions a live class answers, their answers as stored text, the slip each wrong answer reveals, and the real
torch result shown on reveal.

A class question is a Shape Lab layer in predict-first mode (`lab:<the Shape Lab query>`) or a practice question
(`practice:<seed>:<level>:<number>`). This family imports `practice` (a sibling) on purpose: the diagnosis of a wrong
answer is the practice family's slip finder, reused rather than written twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional
from urllib.parse import parse_qsl

from conv_lab import limits
from conv_lab.classroom.codes import ClassroomError
from conv_lab.core.costs import work_check
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import AXES
from conv_lab.core.state import LabConfig, parse_query, share_query_string
from conv_lab.core.torch_run import run_report, torch_code
from conv_lab.practice.check import Answer, check_answer
from conv_lab.practice.questions import LEVELS, Question, question_at
from conv_lab.practice.slips import check_prediction

RIGHT = "Right"
NO_SLIP = "Wrong — no single classic slip gives it"
UNREADABLE = "Not a shape or number for this question"
FAILS = "fails"
TIMES = "×"


@dataclass(frozen=True)
class ClassQuestion:
    """One question as the class sees it: words, the code, the answer boxes; `practice` is set for a practice one."""

    qid: str
    title: str
    prompt: str
    code: str
    labels: tuple[str, ...]  # the answer boxes: C_out and one size per dimension, or one number
    can_fail: bool  # offer "PyTorch rejects this layer"
    config: Optional[LabConfig] = None
    practice: Optional[Question] = None


@dataclass(frozen=True)
class Group:
    """Answers that reveal the same thing (right, one slip, …): the label, how many, and which answers."""

    label: str
    count: int
    right: bool
    answers: tuple[tuple[str, int], ...]


def lab_question_id(config: LabConfig) -> str:
    """The id of a Shape Lab layer asked in predict-first mode.

    >>> lab_question_id(LabConfig())
    'lab:input=3x32x32&filters=16&kernel=3&stride=1&padding=0'
    """
    return "lab:" + share_query_string(config)


def practice_question_id(seed: int, level: int, number: int) -> str:
    """The id of practice question `number` of the set (seed, level).

    >>> practice_question_id(42, 2, 3)
    'practice:42:2:3'
    """
    return f"practice:{int(seed)}:{int(level)}:{int(number)}"


def _lab(qid: str) -> ClassQuestion:
    try:
        config, notices = parse_query(dict(parse_qsl(qid.removeprefix("lab:"), max_num_fields=40)))
    except ValueError:  # more fields than any layer link has
        raise ClassroomError("This is not a layer link Conv Lab wrote: pick the layer again.") from None
    if notices:
        raise ClassroomError(f"This layer link has a setting that cannot be used: {notices[0]}.")
    if lab_question_id(config) != qid:  # one id per layer, written by lab_question_id
        raise ClassroomError("This is not a layer link Conv Lab wrote: pick the layer again.")
    try:
        spec = config.spec()
        work_check(spec, config.input_shape())  # the reveal runs it: refused here when over the page caps
        code = torch_code(spec, config.input_shape()).rsplit("\n", 1)[0]
    except ConvConfigError as exc:
        raise ClassroomError(f"This layer cannot run ({exc.param}: {exc.why}): pick one that runs.") from None
    labels = ("C_out", *(f"{symbol}_out" for _, symbol, _ in AXES[config.dims]))
    return ClassQuestion(qid, f"Shape Lab — {spec.module_name}", "What shape comes out of this layer?", code, labels,
                         False, config=config)


def _practice(qid: str) -> ClassQuestion:
    parts = qid.split(":")
    ok = len(parts) == 4 and all(p.isdigit() and len(p) <= 7 for p in parts[1:])
    seed, level, number = (int(p) for p in parts[1:]) if ok else (-1, -1, -1)
    if not (0 <= seed <= limits.MAX_PRACTICE_SEED and level in LEVELS and 1 <= number <= limits.PRACTICE_SET_SIZE):
        raise ClassroomError(f"A practice question needs a seed 0–{limits.MAX_PRACTICE_SEED}, a level 1–{max(LEVELS)} "
                             f"and a question 1–{limits.PRACTICE_SET_SIZE}.")
    q = question_at(seed, level, number)
    labels = q.shape_labels if q.asks == "shape" else (q.number_label,)
    return ClassQuestion(qid, f"Practice — seed {seed}, level {level}, question {number}", q.prompt, q.code, labels,
                         q.asks == "shape", practice=q)


def load_question(qid: str) -> ClassQuestion:
    """The question behind an id, or a ClassroomError with a plain message.

    >>> load_question("practice:42:1:1").labels
    ('C_out', 'H_out', 'W_out')
    """
    if not isinstance(qid, str) or len(qid) > limits.MAX_QUESTION_ID_CHARS:
        raise ClassroomError("Unknown question.")
    if qid.startswith("lab:"):
        return _lab(qid)
    if qid.startswith("practice:"):
        return _practice(qid)
    raise ClassroomError("Unknown question.")


def encode_answer(values: tuple[Optional[int], ...], fails: bool = False) -> Optional[str]:
    """An answer as stored: 'fails', the numbers joined by ×, or None while a box is empty.

    >>> encode_answer((16, 30, 30)), encode_answer((None, 3)), encode_answer((), fails=True)
    ('16×30×30', None, 'fails')
    """
    if fails:
        return FAILS
    if not values or any(v is None for v in values):
        return None
    return TIMES.join(str(int(v)) for v in values)


def _numbers(text: str, count: int) -> Optional[tuple[int, ...]]:
    parts = text.replace("x", TIMES).split(TIMES)
    # isascii: "²" and other Unicode digits pass isdigit() but not int() (a stored answer is any text)
    if len(parts) != count or not all(p.strip().lstrip("-").isascii() and p.strip().lstrip("-").isdigit()
                                      and len(p.strip()) <= 12 for p in parts):
        return None
    return tuple(int(p) for p in parts)


def diagnose(question: ClassQuestion, answer: str) -> str:
    """What an answer reveals: RIGHT, the slip it shows (the practice diagnosis), NO_SLIP, or UNREADABLE.

    >>> q = load_question("lab:input=3x32x32&filters=16&kernel=3&stride=1&padding=1")
    >>> diagnose(q, "16×32×32"), diagnose(q, "16×30×30"), diagnose(q, "hello")
    ('Right', 'forgot the padding', 'Not a shape or number for this question')
    """
    if question.practice is not None:
        if answer == FAILS and question.can_fail:
            given = Answer(shape=None, fails=True)
        else:
            numbers = _numbers(answer, len(question.labels))
            if numbers is None:
                return UNREADABLE
            given = Answer(shape=numbers) if question.can_fail else Answer(number=numbers[0])
        feedback = check_answer(question.practice, given)
        if not feedback.graded:
            return UNREADABLE
        return RIGHT if feedback.correct else "; ".join(feedback.slips) or NO_SLIP
    numbers = _numbers(answer, len(question.labels))
    if numbers is None:
        return UNREADABLE
    config = question.config
    verdict = check_prediction(config.spec(), config.input_shape(), numbers)
    return RIGHT if verdict.correct else "; ".join(verdict.slips) or NO_SLIP


def group_tally(question: ClassQuestion, tally: dict[str, int]) -> list[Group]:
    """The tally grouped by what each answer reveals, largest group first (the right answers first on a tie).

    >>> q = load_question("lab:input=3x32x32&filters=16&kernel=3&stride=1&padding=1")
    >>> [(g.label, g.count) for g in group_tally(q, {"16×32×32": 3, "16×30×30": 4, "16×31×31": 1})]
    [('forgot the padding', 4), ('Right', 3), ('added the padding once instead of twice (2p)', 1)]
    """
    groups: dict[str, list[tuple[str, int]]] = {}
    for answer, count in sorted(tally.items(), key=lambda item: -item[1]):
        groups.setdefault(diagnose(question, answer), []).append((answer, count))
    out = [Group(label, sum(c for _, c in answers), label == RIGHT, tuple(answers)) for label, answers in groups.items()]
    return sorted(out, key=lambda g: (-g.count, not g.right, g.label))


@dataclass(frozen=True)
class Reveal:
    """The real result: what torch gave (headline), the right answer as stored text, and the code that ran."""

    headline: str
    answer: str
    code: str


def _run_layers(configs: tuple[LabConfig, ...]) -> tuple[str, tuple[int, ...], str]:
    """Run each layer in real torch: the last torch.Size as text and as numbers, and the code of the last layer."""
    report = None
    for config in configs:
        report = run_report(config.spec(), config.input_shape())
    return f"torch.Size({list(report.torch_shape)})", tuple(report.torch_shape), report.code


def reveal(question: ClassQuestion) -> Reveal:
    """Run the question's layer(s) in real torch and say what came out (or what PyTorch rejected).

    >>> reveal(load_question("lab:input=3x32x32&filters=16&kernel=3&stride=1&padding=1")).headline
    'torch.Size([1, 16, 32, 32])'
    """
    if question.practice is None:
        headline, shape, code = _run_layers((question.config,))
        return Reveal(headline, encode_answer(shape[1:]), code)
    q = question.practice
    if q.fails:
        return Reveal(f"PyTorch rejects it — {q.failure_param}: {q.failure_why}", FAILS, q.code)
    if q.asks == "shape":
        headline, shape, _ = _run_layers(q.layers)
        return Reveal(headline, encode_answer(shape[1:]), q.code)
    if q.kind == "params":
        params = run_report(q.layers[0].spec(), q.layers[0].input_shape()).params
        return Reveal(f"{params:,} parameters (summed from the real module)", str(params), q.code)
    headline, _, _ = _run_layers(q.layers)
    return Reveal(f"{q.answer_text}: {headline}", str(q.answer_number), q.code)
