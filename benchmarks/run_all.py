"""Run every benchmark in turn and print its figures (`make bench`). Run on a quiet machine."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    ["slider_latency.py"],
    ["animation.py"],
    ["sweep_render.py"],
    ["lab_pictures.py"],
    ["feature_maps.py", "--server"],
    ["matrix_page.py"],
    ["network.py"],
    ["rerun_cpu.py", "--page", "shape_lab", "--page", "sweep", "--page", "feature-maps", "--bare"],
    ["load.py", "--sessions", "40", "--duration", "60"],
    ["load.py", "--mix", "shape_lab=30,sweep=10", "--duration", "60"],
    ["uploads.py"],
    ["worker_respawn.py"],
    ["worst_request.py"],
    ["classroom.py"],
    ["classroom.py", "--replicas"],
]


def main() -> int:
    """Run each script; return non-zero if any failed."""
    failed = 0
    for args in SCRIPTS:
        print(f"\n=== benchmarks/{' '.join(args)} ===", flush=True)
        failed += subprocess.call([sys.executable, str(HERE / args[0]), *args[1:]], cwd=HERE.parent) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
