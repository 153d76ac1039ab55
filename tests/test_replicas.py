"""Past one process, tested: two replicas behind HAProxy (scripts/replicas.py), on one PostgreSQL (replicas on several
machines) or on one SQLite file (`make hall`: a replica per core of one machine); students answer through HAProxy in
Chromium, one replica is killed with kill -9, and the class goes on on the other."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from conv_lab.classroom import open_store
from conv_lab.classroom.questions import lab_question_id
from conv_lab.lab.presets import PRESET_BY_NAME

from conftest import ROOT, artifact, wait_idle

sys.path.insert(0, str(ROOT / "scripts"))
import replicas  # noqa: E402  (scripts/ is not a package)

REQUIRE_HAPROXY = os.environ.get("CONVLAB_REQUIRE_HAPROXY") == "1"
QID = lab_question_id(PRESET_BY_NAME["Halve with stride 2"].config)  # 3×32×32 → 64×16×16
WAIT = 60_000  # ms: a failed-over tab reconnects, then the new replica imports torch for its first page


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request, tmp_path):
    """The store the replicas share: PostgreSQL, or one SQLite file on this machine (WAL: several writers)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'classes.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def setup(database_url):
    if not Path(replicas.HAPROXY).exists():
        if REQUIRE_HAPROXY:
            pytest.fail("CONVLAB_REQUIRE_HAPROXY=1 but haproxy is not installed (apt-get install haproxy)")
        pytest.skip("SKIPPED: haproxy not found; apt-get install haproxy to run the replica test (make test does)")
    running = replicas.start(database_url)
    try:
        yield running
    finally:
        running.stop()
        shutil.rmtree(running.workdir, ignore_errors=True)


def answer(page, values: tuple[int, int, int]) -> None:
    for label, value in zip(("C_out", "H_out", "W_out"), values):
        page.get_by_role("spinbutton", name=label).fill(str(value))
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_text(f"Your answer: {'×'.join(map(str, values))}").wait_for(timeout=WAIT)


def tally_lines(page, url: str) -> list[str]:
    page.goto(url)
    page.get_by_text("Answered").wait_for(timeout=WAIT)
    wait_idle(page)
    return sorted(line for line in page.inner_text("body").splitlines() if " — " in line and "%" in line)


def test_students_keep_going_when_a_replica_dies(setup, database_url, browser_page, browser):
    store = open_store(database_url)
    code, key = store.create_class()
    store.set_question(code, key, QID)
    contexts = [browser.new_context() for _ in range(4)]
    try:
        pages, replica_of = [], []
        for i, ctx in enumerate(contexts):
            page = ctx.new_page()
            page.set_default_timeout(WAIT)
            page.goto(f"{setup.url}/class?join={code}")
            page.get_by_label("Nickname (optional)").fill(f"s{i}")
            page.get_by_role("button", name="Join").click()
            page.get_by_text("What shape comes out of this layer?").wait_for()
            wait_idle(page)
            answer(page, (64, 15, 15))
            pages.append(page)
            replica_of.append(next(c["value"] for c in ctx.cookies() if c["name"] == "CONVLAB_REPLICA"))
        assert set(replica_of) == {"r1", "r2"}, replica_of  # HAProxy spread the class over both replicas
        students = [dict(p.url.split("?", 1)[1].split("&")[i].split("=", 1) for i in range(2)) for p in pages]

        victim = int(replica_of[0][1]) - 1
        setup.kill(victim)  # kill -9 of the replica serving student 0
        for i, page in enumerate(pages):  # every session continues: failed-over tabs reconnect to the survivor
            answer(page, (64, 16, 16) if i % 2 == 0 else (64, 14, 14))
            page.get_by_role("heading", name=f"s{i}").wait_for()  # the same student (the id in the URL)
        survivor = [c["value"] for c in contexts[0].cookies() if c["name"] == "CONVLAB_REPLICA"]
        assert survivor != [replica_of[0]]
        pages[0].screenshot(path=str(artifact("replicas_student_after_failover.png")))

        expected = {"64×16×16": 2, "64×14×14": 2}
        assert store.tally(code, key, QID) == expected
        assert all(store.answer_of(code, s["me"], QID) for s in students)
        setup.start_replica(victim)  # back up: the teacher's tally is the same from either replica
        teacher = browser_page
        seen = [tally_lines(teacher, f"{setup.replica_url(i)}/class?class={code}&key={key}") for i in (0, 1)]
        assert seen[0] == seen[1] and len(seen[0]) == 2, seen
        assert any("Right — 2 (50%)" in line for line in seen[0]), seen
        teacher.screenshot(path=str(artifact("replicas_teacher_tally.png")))
    finally:
        for ctx in contexts:
            ctx.close()
        store.close()


def test_make_hall_cli_serves_and_a_stop_ends_every_replica(tmp_path):
    """`make hall`'s command: replicas on this machine's SQLite file behind HAProxy; SIGTERM (kill, systemd) stops
    HAProxy and every replica, as Ctrl-C does."""
    import signal
    import subprocess
    import urllib.request

    if not Path(replicas.HAPROXY).exists():
        if REQUIRE_HAPROXY:
            pytest.fail("CONVLAB_REQUIRE_HAPROXY=1 but haproxy is not installed (apt-get install haproxy)")
        pytest.skip("SKIPPED: haproxy not found")
    port = replicas.free_port()
    env = {**os.environ, "CONVLAB_DATABASE_URL": f"sqlite:///{tmp_path / 'classes.db'}"}
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "replicas.py"), "--port", str(port), "--bind",
                             "127.0.0.1", "--replicas", "2"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # printed once HAProxy answers its health check
        assert line.startswith(f"Conv Lab on http://127.0.0.1:{port}"), line
        ports = [int(p) for p in line.split("[", 1)[1].split("]", 1)[0].split(",")]
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5).read() == b"ok"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        for p in [port, *ports]:
            with pytest.raises(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{p}/_stcore/health", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
