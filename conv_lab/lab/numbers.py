"""Short forms of the Shape Lab's metrics, so a metric is never cut off (the exact number goes in its help)."""

from __future__ import annotations


def count_text(n: int) -> str:
    """A large count in a few characters.

    >>> count_text(23_296), count_text(105_415_200), count_text(12_345_678_901)
    ('23,296', '105.4 M', '12.3 G')
    """
    for unit, size in (("G", 1e9), ("M", 1e6)):
        if n >= 10 * size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,}"


def memory_text(n_bytes: float) -> str:
    """Bytes in B, KiB or MiB.

    >>> memory_text(512), memory_text(4096), memory_text(3 * 2**20)
    ('512 B', '4.0 KiB', '3.0 MiB')
    """
    for unit in ("B", "KiB", "MiB"):
        if n_bytes < 1024 or unit == "MiB":
            return f"{n_bytes:,} B" if unit == "B" else f"{n_bytes:,.1f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:,.1f} MiB"  # not reached
