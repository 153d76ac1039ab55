"""numpy's BLAS (OpenBLAS) on one thread per call in the server, like torch (limits.TORCH_THREADS).

OpenBLAS starts a thread per core for a matrix product, and its threads spin while they wait: on the /matrix
page's small products that doubled the CPU a request costs (a transposed 4→4 layer on 10×10: 0.47 s of CPU in
0.36 s of wall time on 2 threads, 0.22 s on one; issue 17). numpy has no call for it, so the loaded OpenBLAS is
found in the process's memory map and asked directly (as threadpoolctl does).
"""

from __future__ import annotations

import ctypes

_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads64_",
            "openblas_set_num_threads")
_GETTERS = tuple(name.replace("_set_", "_get_") for name in _SETTERS)


def _openblas() -> list[ctypes.CDLL]:
    """The OpenBLAS libraries loaded in this process (numpy's own is loaded with numpy)."""
    import numpy  # noqa: F401  (loads numpy's OpenBLAS)

    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line})
    except OSError:  # not Linux: leave the BLAS alone
        return []
    return [ctypes.CDLL(path) for path in paths]


def blas_threads() -> int | None:
    """Threads the loaded OpenBLAS uses per call, or None when there is none to ask."""
    for lib in _openblas():
        for name in _GETTERS:
            if hasattr(lib, name):
                return int(getattr(lib, name)())
    return None


def limit_blas_threads(threads: int = 1) -> bool:
    """Make numpy's OpenBLAS use `threads` threads per call; False when no OpenBLAS was found (nothing changed).

    >>> limit_blas_threads(blas_threads() or 1) in (True, False)
    True
    """
    done = False
    for lib in _openblas():
        setter = next((getattr(lib, name) for name in _SETTERS if hasattr(lib, name)), None)
        if setter is not None:
            setter(int(threads))
            done = True
    return done
