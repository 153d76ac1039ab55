"""Smoke test of benchmarks/load.py: a few sessions, one on every page, against a real server it starts.

No timing is asserted (speed is measured by running the script by hand with the full class);
this checks the load generator runs, reports finite figures for every page, and that every
page answers every update without an error.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from load import app_pages  # noqa: E402


def test_load_generator_reports_figures_and_no_errors(tmp_path):
    pages = app_pages()
    mix = ",".join(f"{Path(file).stem}=1" for file, _ in pages) + f",{Path(pages[0][0]).stem}=1"
    out = tmp_path / "load.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load.py"), "--mix", mix, "--duration", "15", "--interval", "1",
         "--ramp", "1", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, f"load.py failed:\n{proc.stdout}\n{proc.stderr}"
    assert "p95" in proc.stdout and "peak memory" in proc.stdout, proc.stdout
    report = json.loads(out.read_text())["app"]
    assert report["errors"] == [], (report["errors"], proc.stdout)
    assert set(report["pages"]) == {Path(file).stem for file, _ in pages}
    for name, row in report["pages"].items():
        assert math.isfinite(row["open_p95"]) and row["open_p95"] > 0, f"{name}: the page never opened"
        if row["updates"]:  # a slow page may not get a second run in 15 s; its numbers must still be sane
            assert 0 < row["p50"] <= row["p95"] <= row["max"] < 60, (name, row)
            assert row["kb_per_update"] > 0, name
    assert sum(row["updates"] for row in report["pages"].values()) >= len(pages), report["pages"]
    assert 100 < report["peak_memory_mb"] < 8000, report["peak_memory_mb"]
    assert report["server_cpu_ms_per_run"] > 0 and math.isfinite(report["server_cpu_ms_per_run"])


def test_mix_and_pages_are_read_from_app_py():
    from load import parse_mix, resolve_page

    pages = app_pages()
    assert pages[0][1] == "", "the first page in app.py is the default page"
    assert parse_mix("shape_lab=2,sweep=1", 0, pages) == ["", "", "sweep"]
    assert resolve_page("/sweep", pages) == resolve_page("sweep", pages) == "sweep"
    assert parse_mix(None, 3, pages) == ["", "", ""]


def test_busy_cores_keep_a_core_busy_while_the_class_runs_and_stop_after():
    """--busy-cores: the busy laptop's other programs use the cores they are given, and none outlives the run."""
    import time

    from load import machine_busy_seconds, other_programs

    with other_programs(1) as spinners:
        time.sleep(0.3)  # the interpreter starting
        busy, start = machine_busy_seconds(), time.monotonic()
        time.sleep(1.5)
        cores = (machine_busy_seconds() - busy) / (time.monotonic() - start)
        assert all(spinner.poll() is None for spinner in spinners)
    assert cores > 0.6, f"one busy program kept only {cores:.2f} cores busy"
    assert len(spinners) == 1 and all(spinner.poll() is not None for spinner in spinners)


def test_sweep_student_steps_in_the_player_without_a_request():
    """--sweep-moves player: a step moves the offline player only (no rerun), a layer move asks the server."""
    import random

    from load import SWEEP_STEP_SHARE, Student

    student = Student(random.Random(1), step_share=SWEEP_STEP_SHARE, step=1, steps_in_player=True)
    moves = []
    for _ in range(200):
        settings, step = dict(student.settings), student.step
        asks = student.move()
        moves.append(asks)
        assert asks == (student.settings != settings), "a request exactly when a layer setting moved"
        assert asks or student.step != step or step == 1
    assert 0.1 < moves.count(True) / len(moves) < 0.35  # about 1 move in 5 changes the layer
    rerun_steps = Student(random.Random(1), step_share=SWEEP_STEP_SHARE, step=1)
    assert all(rerun_steps.move() for _ in range(50))  # --sweep-moves step: every step is a rerun with step=
