"""CPU of the Shape Lab's two pictures per new layer, for the layers a lecture hall's students move through (issue 17).

    python benchmarks/lab_pictures.py [--layers 120] [--seeds 11 12 13]

Each seed is one student of `load.py --lecture-hall` nudging a square layer (`load.Student`); every distinct layer
is drawn once with the picture caches emptied first, as the picture worker meets it: the padded grid alone, then
both pictures (grid + blocks, `lab.pictures._draw`). Prints the mean CPU per layer per seed, with the load average.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import Student  # noqa: E402

from conv_lab.core.state import LabConfig, parse_query  # noqa: E402
from conv_lab.lab import blocks, grid_picture  # noqa: E402
from conv_lab.lab.pictures import _draw  # noqa: E402


def hall_layers(seed: int, count: int) -> list[tuple]:
    """The distinct (spec, input size, output size) one student's moves reach, in order.

    >>> spec, size, out = hall_layers(1, 3)[0]; len(size) == len(out) == 2
    True
    """
    student, seen = Student(random.Random(seed)), {}
    for _ in range(count):
        student.move()
        config, _ = parse_query(parse_qs(student.query()), (), LabConfig())  # the query load.py urlencodes
        spec = config.spec()
        seen.setdefault((spec, config.input_size, spec.explain(config.input_shape()).output_shape[2:]), None)
    return list(seen)


def cpu_ms_per_layer(layers: list[tuple], grid_only: bool) -> float:
    """Mean CPU ms to draw each layer's picture(s) with every picture cache emptied first."""
    grid_picture._cached.cache_clear()
    blocks._cached.cache_clear()
    start = time.process_time()
    for spec, size, out in layers:
        grid_picture.layer_grid_png(spec, size) if grid_only else _draw(spec, size, out)
    return 1000 * (time.process_time() - start) / len(layers)


def main() -> None:
    """Command line: the figures per seed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=120, help="moves per student")
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    args = parser.parse_args()
    _draw(*hall_layers(1, 2)[0])  # fonts and imports, not counted
    print(f"Shape Lab pictures per new layer, CPU ms (load average {os.getloadavg()[0]:.2f})")
    for seed in args.seeds:
        layers = hall_layers(seed, args.layers)
        grid, both = cpu_ms_per_layer(layers, True), cpu_ms_per_layer(layers, False)
        print(f"  seed {seed}: {len(layers)} layers, padded grid {grid:.2f} ms, both pictures {both:.2f} ms")


if __name__ == "__main__":
    main()
