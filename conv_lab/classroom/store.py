"""The class store: classes, the question each shows, students' latest answers, and the teacher's tally.

Everything a student may see (the current question, whether it is revealed, their own answer) needs only the join
code; everything else (tally, question control, reveal) needs the teacher key, checked in constant time.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

from conv_lab import limits
from conv_lab.classroom import codes
from conv_lab.classroom.codes import ClassFull, ClassroomError, UnknownClass, clean_code, clean_question
from conv_lab.classroom.engines import Tx, connect

WRONG_KEY = "This link has no valid teacher key for this class: answers, the tally and the controls stay hidden."


@dataclass(frozen=True)
class ClassState:
    """What every student of a class may see: the current question ('' before the first), revealed or not."""

    code: str
    question: str
    revealed: bool
    expires: float  # seconds since the epoch
    students: int


def default_hours() -> float:
    """How long a new class lives: CONVLAB_CLASS_HOURS when valid, else `limits.CLASS_HOURS`.

    >>> 0 < default_hours() <= limits.MAX_CLASS_HOURS
    True
    """
    try:
        return codes.clean_hours(float(os.environ.get("CONVLAB_CLASS_HOURS", limits.CLASS_HOURS)))
    except (ValueError, ClassroomError):
        return limits.CLASS_HOURS


class ClassStore:
    """Classes in SQLite or PostgreSQL (see `open_store`); safe to share between threads of one process."""

    def __init__(self, url: Optional[str] = None, clock: Callable[[], float] = time.time) -> None:
        self.engine = connect(url)
        self.clock = clock

    @property
    def kind(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.name

    def _live(self, tx: Tx, code: str, lock: str = "") -> tuple:
        """The class row (key digest, expires, current); UnknownClass when missing or expired."""
        row = tx.one(f"SELECT key_digest, expires, current FROM classes WHERE code = ?{lock}", (code,))
        if row is None or row[1] <= self.clock():
            raise UnknownClass(f"No class is running with the code {code}: check the code, or ask for a new one "
                               "(a class ends after a few hours).")
        return row

    def _teacher(self, tx: Tx, code: str, key: object, lock: str = "") -> tuple:
        row = self._live(tx, code, lock)
        if not codes.key_matches(key, row[0]):
            raise PermissionError(WRONG_KEY)
        return row

    def create_class(self, hours: Optional[float] = None) -> tuple[str, str]:
        """Start a class; returns (join code, teacher key). Expired classes are deleted first."""
        hours = default_hours() if hours is None else codes.clean_hours(hours)
        key, now = codes.new_key(), self.clock()
        with self.engine.transaction(write=True) as tx:
            self.engine.serialise_creates(tx)
            tx.run("DELETE FROM classes WHERE expires <= ?", (now,))
            (live,) = tx.one("SELECT COUNT(*) FROM classes")
            if live >= limits.MAX_CLASSES:
                raise ClassFull(f"This server already runs {limits.MAX_CLASSES} classes: try again when one ends.")
            for _ in range(50):
                code = codes.new_code()
                tx.run("INSERT INTO classes (code, key_digest, created, expires) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (code) DO NOTHING", (code, codes.key_digest(key), now, now + hours * 3600))
                if tx.rowcount == 1:
                    return code, key
        raise ClassFull("No free class code was found: try again.")  # never seen: 47 M codes, ≤ 500 live

    def join(self, code: str, nickname: Optional[str] = None) -> str:
        """Join a class (optional nickname); returns a new random student id for this browser tab."""
        code, nickname = clean_code(code), codes.clean_nickname(nickname)
        student = secrets.token_urlsafe(12)
        self._register(code, student, nickname)
        return student

    def _register(self, code: str, student: str, nickname: str) -> None:
        """Add a student to a class (capped); an existing student keeps their row."""
        with self.engine.transaction(write=True) as tx:
            self._live(tx, code, self.engine.update)
            if tx.one("SELECT 1 FROM students WHERE code = ? AND student = ?", (code, student)):
                return
            (count,) = tx.one("SELECT COUNT(*) FROM students WHERE code = ?", (code,))
            if count >= limits.MAX_STUDENTS_PER_CLASS:
                raise ClassFull(f"This class is full ({limits.MAX_STUDENTS_PER_CLASS} students).")
            tx.run("INSERT INTO students (code, student, nickname, joined) VALUES (?, ?, ?, ?)",
                   (code, student, nickname, self.clock()))

    def _open_question(self, tx: Tx, code: str, question: str) -> None:
        """Make sure a question row exists (capped per class); the class row must be locked for update."""
        if tx.one("SELECT 1 FROM questions WHERE code = ? AND question = ?", (code, question)):
            return
        (count,) = tx.one("SELECT COUNT(*) FROM questions WHERE code = ?", (code,))
        if count >= limits.MAX_QUESTIONS_PER_CLASS:
            raise ClassFull(f"This class has reached {limits.MAX_QUESTIONS_PER_CLASS} questions: start a new class.")
        tx.run("INSERT INTO questions (code, question) VALUES (?, ?)", (code, question))

    def submit(self, code: str, student: str, question: str, answer: str) -> bool:
        """Store a student's answer (the latest per student and question counts); False once the question is revealed.

        Raises UnknownClass (a ValueError) for a code with no live class, ClassroomError for a bad value: nothing is
        stored then. Returns only after the answer is committed to disk.
        """
        code, student = clean_code(code), codes.clean_student(student)
        question, answer = clean_question(question), codes.clean_answer(answer)
        for _ in range(2):
            with self.engine.transaction(write=True) as tx:
                self._live(tx, code, self.engine.share)
                revealed = tx.one(f"SELECT revealed FROM questions WHERE code = ? AND question = ?{self.engine.share}",
                                  (code, question))
                known = tx.one("SELECT 1 FROM students WHERE code = ? AND student = ?", (code, student))
                if revealed is not None and known:
                    if revealed[0]:
                        return False
                    tx.run("INSERT INTO answers (code, student, question, answer, at) VALUES (?, ?, ?, ?, ?) "
                           "ON CONFLICT (code, question, student) DO UPDATE SET answer = excluded.answer, at = excluded.at",
                           (code, student, question, answer, self.clock()))
                    return True
            # first answer of this student or to this question: add the row (capped, class locked), then store
            if not known:
                self._register(code, student, "")
            if revealed is None:
                with self.engine.transaction(write=True) as tx:
                    self._live(tx, code, self.engine.update)
                    self._open_question(tx, code, question)
        raise ClassroomError("The answer could not be stored: try again.")  # the class changed under us twice

    def tally(self, code: str, teacher_key: str, question: str) -> dict[str, int]:
        """How many students' latest answers are each answer; PermissionError without the class's teacher key."""
        code, question = clean_code(code), clean_question(question)
        with self.engine.transaction() as tx:
            self._teacher(tx, code, teacher_key)
            rows = tx.run("SELECT answer, COUNT(*) FROM answers WHERE code = ? AND question = ? GROUP BY answer",
                          (code, question))
        return {answer: int(count) for answer, count in rows}

    def is_teacher(self, code: object, teacher_key: object) -> bool:
        """True when `teacher_key` is the key of the live class `code` (never raises on bad values)."""
        try:
            with self.engine.transaction() as tx:
                self._teacher(tx, clean_code(code), teacher_key)
        except (ValueError, PermissionError):
            return False
        return True

    def set_question(self, code: str, teacher_key: str, question: str) -> None:
        """Show `question` to the class (teacher only); a question already revealed stays revealed."""
        code, question = clean_code(code), clean_question(question)
        with self.engine.transaction(write=True) as tx:
            self._teacher(tx, code, teacher_key, self.engine.update)
            self._open_question(tx, code, question)
            tx.run("UPDATE classes SET current = ? WHERE code = ?", (question, code))

    def reveal(self, code: str, teacher_key: str, question: str) -> None:
        """Close answers to `question` and show the result on every student page (teacher only)."""
        code, question = clean_code(code), clean_question(question)
        with self.engine.transaction(write=True) as tx:
            self._teacher(tx, code, teacher_key, self.engine.update)
            self._open_question(tx, code, question)
            tx.run("UPDATE questions SET revealed = 1 WHERE code = ? AND question = ?", (code, question))

    def state(self, code: str) -> ClassState:
        """What every student may see of a class (UnknownClass when it is not running)."""
        code = clean_code(code)
        with self.engine.transaction() as tx:
            _, expires, current = self._live(tx, code)
            revealed = tx.one("SELECT revealed FROM questions WHERE code = ? AND question = ?", (code, current))
            (students,) = tx.one("SELECT COUNT(*) FROM students WHERE code = ?", (code,))
        return ClassState(code, current, bool(revealed and revealed[0]), float(expires), int(students))

    def answer_of(self, code: str, student: str, question: str) -> Optional[str]:
        """A student's own latest answer to a question (None before they answer)."""
        code, student, question = clean_code(code), codes.clean_student(student), clean_question(question)
        with self.engine.transaction() as tx:
            self._live(tx, code)
            row = tx.one("SELECT answer FROM answers WHERE code = ? AND question = ? AND student = ?",
                         (code, question, student))
        return row[0] if row else None

    def nickname_of(self, code: str, student: str) -> str:
        """The nickname a student joined with ('' for none or an unknown student)."""
        code, student = clean_code(code), codes.clean_student(student)
        with self.engine.transaction() as tx:
            row = tx.one("SELECT nickname FROM students WHERE code = ? AND student = ?", (code, student))
        return row[0] if row else ""

    def close(self) -> None:
        """Close the database connection."""
        self.engine.close()


def open_store(url: Optional[str] = None, clock: Callable[[], float] = time.time) -> ClassStore:
    """The class store at `url`, else CONVLAB_DATABASE_URL, else SQLite in the user's data directory.

    >>> import tempfile; store = open_store(f"sqlite:///{tempfile.mkdtemp()}/c.db"); code, key = store.create_class()
    >>> store.submit(code, "s1", "q1", "16×30×30"), store.tally(code, key, "q1")
    (True, {'16×30×30': 1})
    >>> store.close()
    """
    return ClassStore(url or os.environ.get("CONVLAB_DATABASE_URL") or None, clock)


_SHARED: dict[str, ClassStore] = {}
_SHARED_LOCK = threading.Lock()


def shared_store() -> ClassStore:
    """One store per process for the pages (opened on first use from CONVLAB_DATABASE_URL or the default file).

    >>> shared_store.__name__
    'shared_store'
    """
    url = os.environ.get("CONVLAB_DATABASE_URL") or ""
    with _SHARED_LOCK:
        if url not in _SHARED:
            _SHARED[url] = open_store(url or None)
        return _SHARED[url]
