"""The class store on both engines: SQLite (a temp file) and a real PostgreSQL started by the tests (conftest)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conv_lab import limits
from conv_lab.classroom import ClassFull, ClassroomError, UnknownClass, open_store
from conv_lab.classroom.codes import ALPHABET, clean_code, display_code

from conftest import ROOT, n_examples

TABLES = ("classes", "questions", "students", "answers")


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path) -> str:
    """The URL of an empty-ish store on each engine (PostgreSQL: one server per test session)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/classes.db"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(store_url):
    s = open_store(store_url)
    yield s
    s.close()


def counts(store) -> dict[str, int]:
    """Rows per table (what 'stores nothing' compares)."""
    with store.engine.transaction() as tx:
        return {t: tx.one(f"SELECT COUNT(*) FROM {t}")[0] for t in TABLES}


def test_the_api_round_trip(store):
    code, key = store.create_class()
    assert store.kind in ("sqlite", "postgresql")
    assert len(code) == limits.CLASS_CODE_LENGTH and set(code) <= set(ALPHABET)
    assert clean_code(display_code(code).lower()) == code
    assert store.submit(code, "ann", "q1", "16×30×30") is True
    assert store.submit(code, "bob", "q1", "16×32×32") is True
    assert store.submit(code, "ann", "q1", "16×32×32") is True  # changed her mind: the latest counts
    assert store.tally(code, key, "q1") == {"16×32×32": 2}
    assert store.answer_of(code, "ann", "q1") == "16×32×32" and store.answer_of(code, "cat", "q1") is None
    assert store.tally(code, key, "q2") == {}


def test_questions_reveal_and_state(store):
    code, key = store.create_class()
    student = store.join(code, "  Ada  ")
    assert store.nickname_of(code, student) == "Ada"
    assert store.state(code).question == "" and store.state(code).students == 1
    store.set_question(code, key, "practice:42:1:1")
    assert store.state(code).question == "practice:42:1:1" and not store.state(code).revealed
    assert store.submit(code, student, "practice:42:1:1", "8×30×30")
    store.reveal(code, key, "practice:42:1:1")
    assert store.state(code).revealed
    assert store.submit(code, student, "practice:42:1:1", "8×28×28") is False  # closed: the answer stays
    assert store.tally(code, key, "practice:42:1:1") == {"8×30×30": 1}
    store.set_question(code, key, "practice:42:1:2")
    assert not store.state(code).revealed
    assert store.submit(code, student, "practice:42:1:2", "fails")
    assert store.tally(code, key, "practice:42:1:1") == {"8×30×30": 1}  # earlier questions keep their answers


def test_wrong_keys_are_refused(store):
    code, key = store.create_class()
    other_code, other_key = store.create_class()
    store.submit(code, "ann", "q", "1")
    wrong = ["", None, 0, other_key, key[:-1] + ("A" if key[-1] != "A" else "B"), key + "x", code, key.upper()
             if key.upper() != key else key.lower(), "x" * 100_000, key[:8], "' OR '1'='1"]
    for bad in wrong:
        assert not store.is_teacher(code, bad)
        with pytest.raises(PermissionError, match="no valid teacher key"):
            store.tally(code, bad, "q")
        with pytest.raises(PermissionError):
            store.set_question(code, bad, "q2")
        with pytest.raises(PermissionError):
            store.reveal(code, bad, "q")
    assert store.state(code).question == "" and not store.state(code).revealed
    assert store.is_teacher(code, key) and store.is_teacher(other_code, other_key)
    assert not store.is_teacher(other_code, key)
    assert store.submit(code, "ann", "q", "2")  # nothing was revealed by the attempts


HOSTILE_CODES = ["", "   ", "x" * 1_000_000, "ABC\x00DE", "'; DROP TABLE classes; --", "KXM47R\n\x1b[2J", "ＫＸＭ４７Ｒ",
                 "KXM47", "KXM47RR", "0O1I5S", None, 123, b"KXM47R", ["KXM47R"]]
HOSTILE_ANSWERS = ["", "   ", "9" * 100_000, "16×30×30\x00", "1; DROP TABLE answers; --", "1' OR '1'='1", "\u202e61",
                   "a\x1bb", "16\n30", "\u200b", None, 16, 3.5, ["16"]]
HOSTILE_NICKNAMES = ["x" * 1000, "a\x1bb", "Robert'); DROP TABLE students;--", "\u200b", "a\nb", "<script>", 7]
HOSTILE_STUDENTS = ["", "x" * 1000, "a b", "s;1", "é", "s\x00", None, 12]


def test_hostile_values_give_plain_errors_and_store_nothing(store):
    code, key = store.create_class()
    store.submit(code, "ann", "q", "1")
    before = counts(store)
    attempts = [lambda c=c: store.submit(c, "bob", "q", "1") for c in HOSTILE_CODES]
    attempts += [lambda a=a: store.submit(code, "bob", "q", a) for a in HOSTILE_ANSWERS]
    attempts += [lambda n=n: store.join(code, n) for n in HOSTILE_NICKNAMES]
    attempts += [lambda s=s: store.submit(code, s, "q", "1") for s in HOSTILE_STUDENTS]
    attempts += [lambda q=q: store.submit(code, "bob", q, "1") for q in ["", "q" * 10_000, "a b", "q\x00", "é"]]
    attempts += [lambda c=c: store.join(c) for c in HOSTILE_CODES]
    attempts += [lambda: store.submit("KXM47R" if code != "KXM47R" else "KXM47T", "bob", "q", "1")]  # unknown class
    attempts += [lambda h=h: store.create_class(hours=h) for h in (0, -1, float("nan"), float("inf"), 10_000, "4", True)]
    for attempt in attempts:
        with pytest.raises(ValueError) as info:
            attempt()
        message = str(info.value)
        assert 10 < len(message) < 200 and "\n" not in message and "Traceback" not in message
        assert "SELECT" not in message and "DROP" not in message
    assert counts(store) == before
    with pytest.raises(UnknownClass, match="No class is running"):
        store.submit("kxm-47r" if code != "KXM47R" else "kxm-47t", "bob", "q", "1")
    assert store.tally(code, key, "q") == {"1": 1}


def test_caps(store, monkeypatch):
    monkeypatch.setattr(limits, "MAX_STUDENTS_PER_CLASS", 3)
    monkeypatch.setattr(limits, "MAX_QUESTIONS_PER_CLASS", 2)
    code, key = store.create_class()
    for s in ("a", "b", "c"):
        assert store.submit(code, s, "q1", "1")
    with pytest.raises(ClassFull, match="full"):
        store.submit(code, "d", "q1", "1")
    with pytest.raises(ClassFull):
        store.join(code)
    assert store.submit(code, "a", "q2", "2")
    with pytest.raises(ClassFull, match="questions"):
        store.submit(code, "a", "q3", "3")
    with pytest.raises(ClassFull):
        store.set_question(code, key, "q3")
    assert store.tally(code, key, "q1") == {"1": 3}
    store.create_class()  # deletes expired classes: what is left is live
    live = counts(store)["classes"]
    monkeypatch.setattr(limits, "MAX_CLASSES", live)
    with pytest.raises(ClassFull, match="already runs"):
        store.create_class()


def test_a_class_expires(store_url):
    now = [1_000_000.0]
    store = open_store(store_url, clock=lambda: now[0])
    try:
        code, key = store.create_class(hours=1)
        assert store.submit(code, "ann", "q", "1")
        now[0] += 3599
        assert store.tally(code, key, "q") == {"1": 1}
        now[0] += 2
        for call in (lambda: store.submit(code, "ann", "q", "2"), lambda: store.state(code), lambda: store.join(code)):
            with pytest.raises(UnknownClass):
                call()
        with pytest.raises(UnknownClass):
            store.tally(code, key, "q")
        assert not store.is_teacher(code, key)
        store.create_class()  # purges expired classes and everything in them
        with store.engine.transaction() as tx:
            assert tx.one("SELECT COUNT(*) FROM answers WHERE code = ?", (code,))[0] == 0
    finally:
        store.close()


@settings(max_examples=n_examples(40, 15))
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["q1", "q2"]),
                          st.text(alphabet="0123456789×x fails,", min_size=0, max_size=12)), max_size=12))
def test_the_tally_is_the_latest_answer_of_each_student(store_url, actions):
    store = open_store(store_url)
    try:
        code, key = store.create_class()
        latest: dict[tuple[str, str], str] = {}
        for student, question, answer in actions:
            if answer.strip():
                assert store.submit(code, student, question, answer)
                latest[(student, question)] = answer.strip()
            else:
                with pytest.raises(ClassroomError):
                    store.submit(code, student, question, answer)
        for q in ("q1", "q2"):
            assert store.tally(code, key, q) == Counter(a for (s, qq), a in latest.items() if qq == q)
    finally:
        store.close()


WRITER = textwrap.dedent("""
    import sys
    from conv_lab.classroom import open_store
    url, code, tag, students, questions = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    store = open_store(url)
    print("ready", flush=True)
    sys.stdin.readline()  # every writer starts at once
    n = 0
    while questions == 0 or n < students * questions:
        s, q = n % students, (n // students if questions else 0)  # questions=0: answer until killed, one question
        if not store.submit(code, f"{tag}-{s}", f"q{q}", f"{s % 7}x{q}"):
            raise SystemExit("refused")
        print(f"ack {tag}-{s} q{q} {s % 7}x{q}", flush=True)
        n += 1
    store.close()
""")


def _writer(url: str, code: str, tag: str, students: int, questions: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, url, code, tag, str(students), str(questions)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_eight_processes_fifty_answers_each_all_counted(store):
    code, key = store.create_class()
    writers = [_writer(store_url_of(store), code, f"p{i}", 25, 2) for i in range(8)]  # 25 students × 2 questions
    for proc in writers:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    acks = []
    for proc in writers:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out
        acks += [line.split()[1:] for line in out.splitlines() if line.startswith("ack")]
    assert len(acks) == 8 * 50
    for q in ("q0", "q1"):
        expected = Counter(answer for _, qq, answer in acks if qq == q)
        assert store.tally(code, key, q) == expected and sum(expected.values()) == 200


def store_url_of(store) -> str:
    """The URL a store was opened with (for child processes)."""
    engine = store.engine
    return engine.url if store.kind == "postgresql" else f"sqlite:///{Path(engine.path)}"


def test_kill_9_after_acknowledgements_loses_nothing(store):
    code, key = store.create_class()
    proc = _writer(store_url_of(store), code, "k", 150, 0)  # answers until killed (one question, 150 students)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    acked = []
    while len(acked) < 40:
        line = proc.stdout.readline()
        assert line, "writer died"
        acked.append(line.split()[1:])
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    survivor = open_store(store_url_of(store))
    try:
        for student, _, answer in acked:
            assert survivor.answer_of(code, student, "q0") == answer
        assert sum(survivor.tally(code, key, "q0").values()) >= len(acked)
    finally:
        survivor.close()


def test_the_default_store_is_sqlite_in_the_data_dir_created_on_first_use(tmp_path, monkeypatch):
    monkeypatch.delenv("CONVLAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    store = open_store()
    try:
        assert store.kind == "sqlite" and store.engine.path == tmp_path / "data" / "conv-lab" / "classes.db"
        conn = store.engine.conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: a commit is on disk before it returns
        code, key = store.create_class()
        assert store.submit(code, "ann", "q", "1")
    finally:
        store.close()
    with pytest.raises(ValueError, match="CONVLAB_DATABASE_URL"):
        open_store("mysql://root@localhost/x")
