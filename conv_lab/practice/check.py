"""A practice session: checking an answer (the probable slip, the formula with the question's numbers), the score,
URL settings."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Mapping, Optional, Union

from conv_lab import limits
from conv_lab.core.options import Option, options_query, parse_options
from conv_lab.core.params import AXES
from conv_lab.core.shapes import conv_out, explain
from conv_lab.core.state import LabConfig
from conv_lab.practice.questions import LEVELS, Question, config_code
from conv_lab.practice.slips import check_keep_padding, check_params, check_stack_prediction, check_stride, failure_slip


@dataclass(frozen=True)
class Answer:
    """What a learner entered: a shape (blanks as None), one number, or 'this layer fails'."""

    shape: Optional[tuple[Optional[int], ...]] = None  # (C_out, *one size per dimension)
    number: Optional[int] = None
    fails: bool = False


@dataclass(frozen=True)
class Worked:
    """The formula for one layer with the question's numbers (LaTeX lines), under a title."""

    title: str
    latex: tuple[str, ...]


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer; `graded` is False when the answer was incomplete (nothing counted)."""

    graded: bool
    correct: bool
    messages: tuple[str, ...]
    slips: tuple[str, ...] = ()
    worked: tuple[Worked, ...] = ()
    reason: str = ""  # why the layer fails, when it does


def _worked_layers(layers: tuple[LabConfig, ...]) -> list[Worked]:
    worked = []
    for i, config in enumerate(layers, 1):
        ex = explain(config.spec(), config.input_shape())
        title = f"Layer {i}: {config_code(config)}" if len(layers) > 1 else config_code(config)
        worked.append(Worked(title, (*(d.latex for d in ex.dims), ex.channels_latex)))
    return worked


def _failure_latex(config: LabConfig) -> tuple[str, ...]:
    """For a kernel that does not fit: the formula giving a size below 1 (the first dimension where it does)."""
    if config.transposed or isinstance(config.padding, str):
        return ()
    axes = [0] if config.dims == 2 else range(config.dims)  # 2-D: the height, as always
    for axis in axes:
        k, s, p, d = (getattr(config, name)[axis] for name in ("kernel_size", "stride", "padding", "dilation"))
        size, symbol = config.input_size[axis], AXES[config.dims][axis][1]
        out = conv_out(size, k, s, p, p, d)
        if out < 1:
            num = size + 2 * p - d * (k - 1) - 1
            return (rf"{symbol}_{{out}} = \left\lfloor \frac{{{size} + 2\cdot {p} - {d}\cdot({k}-1) - 1}}{{{s}}} "
                    rf"\right\rfloor + 1 = \left\lfloor \frac{{{num}}}{{{s}}} \right\rfloor + 1 = {out} < 1",)
    return ()


def _params_latex(config: LabConfig, actual: int) -> str:
    c_in, c_out, g = config.in_channels, config.out_channels, config.groups
    bias = rf"{c_out}" if config.bias else r"0\ (\mathrm{bias{=}False})"
    taps = " ".join(f"k_{symbol.lower()}" for _, symbol, _ in AXES[config.dims]).replace("k_l", "k")
    kernel = r"\cdot ".join(str(k) for k in config.kernel_size)
    return (rf"\mathrm{{params}} = C_{{in}}\cdot\frac{{C_{{out}}}}{{g}}\cdot {taps} + \mathrm{{bias}}"
            rf" = {c_in}\cdot\frac{{{c_out}}}{{{g}}}\cdot {kernel} + {bias} = {actual:,}".replace(",", "{,}"))


def _check_shape(q: Question, answer: Answer) -> Feedback:
    if q.fails:
        before = _worked_layers(q.layers[:-1]) if len(q.layers) > 1 else []
        last = q.layers[-1]
        worked = (*before, Worked(f"Layer {len(q.layers)}: {config_code(last)}" if before else config_code(last),
                                  _failure_latex(last)))
        reason = f"{q.failure_param}: {q.failure_why}." + (f" Fix: {q.failure_fix}." if q.failure_fix else "")
        if answer.fails:
            return Feedback(True, True, ("Right: PyTorch rejects this layer.",), (), worked, reason)
        slip = failure_slip(q.failure)
        said = ", ".join(str(v) for v in answer.shape)
        return Feedback(True, False, (f"You said ({said}), but PyTorch rejects this layer — you probably {slip}.",),
                        (slip,), worked, reason)
    worked = tuple(_worked_layers(q.layers))
    if answer.fails:
        return Feedback(True, False, (f"This layer runs: it gives {q.answer_shape}. PyTorch only rejects a layer when "
                                      "a rule breaks (the kernel does not fit, groups do not divide, …).",),
                        ("thought a legal layer fails",), worked)
    specs = [c.spec() for c in q.layers]
    verdict = check_stack_prediction(specs, q.layers[0].input_shape(), answer.shape)
    return Feedback(True, verdict.correct, verdict.messages, verdict.slips, worked)


def _check_number(q: Question, guess: int) -> Feedback:
    config = q.layers[0]
    spec = config.spec()
    if q.kind == "params":
        verdict = check_params(spec, config.input_shape(), guess)
        worked = (Worked(config_code(config), (_params_latex(config, verdict.actual),)),)
    elif q.kind == "keep_padding":
        verdict = check_keep_padding(spec, config.height, guess)
        k, d = config.kernel_size[0], config.dilation[0]
        rule = rf"p = \frac{{d\,(k-1)}}{{2}} = \frac{{{d}\cdot({k}-1)}}{{2}} = {verdict.actual}"
        worked = (Worked("The padding that keeps the size", (rule,)), *_worked_layers(q.layers))
    else:
        verdict = check_stride(spec, config.height, q.target, guess)
        worked = (Worked(f"With stride {verdict.actual}", (explain(spec, config.input_shape()).dims[0].latex,)),)
    return Feedback(True, verdict.correct, (verdict.message,), (verdict.slip,) if verdict.slip else (), worked)


def check_answer(question: Question, answer: Answer) -> Feedback:
    """Grade an answer: right or wrong, the probable slip, and the formula worked out with the question's numbers.

    >>> from conv_lab.practice.questions import question_at
    >>> q = question_at(42, 1, 1)
    >>> check_answer(q, Answer(shape=q.answer_shape, fails=q.fails)).correct
    True
    """
    if question.asks == "number":
        if answer.number is None:
            return Feedback(False, False, (f"Enter the {question.number_label.lower()} first.",))
        return _check_number(question, answer.number)
    if not answer.fails and (answer.shape is None or any(v is None for v in answer.shape)):
        labels = question.shape_labels
        return Feedback(False, False, (f"Enter {', '.join(labels[:-1])} and {labels[-1]} — or tick “PyTorch rejects "
                                       "this”.",))
    return _check_shape(question, answer)


@dataclass
class Score:
    """A session's score: only the first answer to each question counts; the streak of right first answers.

    >>> s = Score(); s.record((1, 1, 1), True), s.record((1, 1, 1), False), s.record((1, 1, 2), True)
    (True, False, True)
    >>> s.right, s.answered, s.streak
    (2, 2, 2)
    """

    first_answers: dict = field(default_factory=dict)
    streak: int = 0
    best_streak: int = 0

    def record(self, key: tuple[int, int, int], correct: bool) -> bool:
        """Count a (seed, level, number) answer if it is the first for that question; True when it counted."""
        if key in self.first_answers:
            return False
        self.first_answers[key] = correct
        self.streak = self.streak + 1 if correct else 0
        self.best_streak = max(self.best_streak, self.streak)
        return True

    @property
    def right(self) -> int:
        """Questions right at the first try."""
        return sum(self.first_answers.values())

    @property
    def answered(self) -> int:
        """Questions answered."""
        return len(self.first_answers)


PRACTICE_OPTIONS = (
    Option("seed", "int", 0, 0, limits.MAX_PRACTICE_SEED, "Seed", "the same seed gives every student the same set",
           always=True),
    Option("level", "int", 1, 1, max(LEVELS), "Level", always=True),
    Option("n", "int", 1, 1, limits.PRACTICE_SET_SIZE, "Question", field="number", always=True),
    Option("teacher", "bool", False, label="Teacher view", help="every question with its answer"),
)


@dataclass(frozen=True)
class PracticeSettings:
    """Which set a page shows: seed and level pick the questions, `number` the current one, `teacher` the answer key."""

    seed: int
    level: int = PRACTICE_OPTIONS[1].default
    number: int = PRACTICE_OPTIONS[2].default
    teacher: bool = PRACTICE_OPTIONS[3].default

    def query(self) -> dict[str, str]:
        """The page's URL params (teacher only when on).

        >>> PracticeSettings(42, 2).query()
        {'seed': '42', 'level': '2', 'n': '1'}
        """
        return options_query(PRACTICE_OPTIONS, self)


def new_seed() -> int:
    """A fresh seed for a learner who came without one (short enough to read out in class).

    >>> 0 <= new_seed() < 100_000
    True
    """
    return secrets.randbelow(100_000)


def parse_settings(params: Mapping[str, Union[str, list, tuple, None]], fallback_seed: int
                   ) -> tuple[PracticeSettings, list[str]]:
    """Read seed/level/n/teacher from query params (the table, read by `core.options`); never raises.

    >>> parse_settings({"seed": "42", "level": "9"}, 7)
    (PracticeSettings(seed=42, level=6, number=1, teacher=False), ['level=9 must be between 1 and 6; using 6'])
    """
    notices: list[str] = []
    values = parse_options(PRACTICE_OPTIONS, params, notices)
    return PracticeSettings(**{"seed": fallback_seed, **values}), notices

