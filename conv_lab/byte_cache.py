"""Caches bounded in bytes as well as in entries (issue 17 item 5: memory over a lesson).

`functools.lru_cache(maxsize=16)` bounds a cache by its number of entries only. When one entry can be a few
kilobytes or tens of megabytes (a sweep over a 64×64 grid, an animation's layers, a decoded upload), the same
cap means 100 KB or 1 GB, and the server's memory grows until the largest case has filled every slot.
`byte_lru_cache` keeps the entry cap and adds a byte budget: the least recently used entries go until the
estimated bytes fit, and one result larger than the whole budget is returned but not kept.

`approx_nbytes` is the estimate: the buffers that matter (numpy arrays, torch tensors, bytes and strings,
Pillow images) in full, inside containers, dataclasses and plain objects; a flat 64 bytes for any other object.
An object with an int `nbytes` attribute reports its own size (cheaper than walking it).
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import threading
from collections import OrderedDict, namedtuple
from typing import Any, Callable, Hashable, TypeVar

import numpy as np

T = TypeVar("T")
CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])  # as functools' cache_info()
_KWARGS = object()  # separates positional from keyword arguments in a cache key
_MISSING = object()  # not in the store (a stored None is a value)
_OBJECT = 64  # bytes counted for any Python object besides the buffers it holds
_MAX_DEPTH = 12


def _fields(value: Any) -> dict | None:
    """The attributes of a plain object, a dataclass or a slotted object (None: none found)."""
    fields = getattr(value, "__dict__", None)
    if fields is None and dataclasses.is_dataclass(value):
        fields = {f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}
    if fields is None and hasattr(type(value), "__slots__"):
        slots = type(value).__slots__
        fields = {name: getattr(value, name, None) for name in ([slots] if isinstance(slots, str) else slots)}
    return fields


def approx_nbytes(value: Any, _seen: set[int] | None = None, _depth: int = 0) -> int:
    """Estimated bytes held by `value`: buffers in full, a flat 64 per other object; shared objects once.

    >>> approx_nbytes(np.zeros((100, 100)))  # 80 000 bytes of float64 + the array object
    80064
    >>> big = np.zeros(10_000, np.uint8); approx_nbytes([big, big, big[:10]]) < 2 * big.nbytes  # counted once
    True
    """
    seen = set() if _seen is None else _seen
    if id(value) in seen or _depth > _MAX_DEPTH:
        return 0
    seen.add(id(value))
    deeper = _depth + 1
    if isinstance(value, np.ndarray):  # a view counts its base array's buffer (once)
        base = value.base if isinstance(value.base, np.ndarray) else None
        return _OBJECT + (approx_nbytes(base, seen, deeper) if base is not None else value.nbytes)
    if isinstance(value, (bytes, bytearray, str)):
        return _OBJECT + len(value)
    if isinstance(value, memoryview):
        return _OBJECT + value.nbytes
    if value is None or isinstance(value, (int, float, complex, bool, type)):
        return 32
    own = getattr(value, "nbytes", None)  # an object that knows its size (e.g. sweep.service.SweepPlayer)
    if isinstance(own, int) and not hasattr(value, "untyped_storage"):
        return _OBJECT + own
    module = type(value).__module__
    if module.startswith("torch") and hasattr(value, "untyped_storage"):  # a tensor: its whole storage
        try:
            return _OBJECT + value.untyped_storage().nbytes()
        except (RuntimeError, TypeError):
            return _OBJECT
    if module.startswith("PIL.") and hasattr(value, "getbands"):  # a Pillow image: its pixels
        return _OBJECT + value.width * value.height * len(value.getbands())
    if isinstance(value, dict):
        return _OBJECT + sum(approx_nbytes(k, seen, deeper) + approx_nbytes(v, seen, deeper) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return _OBJECT + 8 * len(value) + sum(approx_nbytes(v, seen, deeper) for v in value)
    fields = _fields(value)
    if fields is None:
        return max(_OBJECT, sys.getsizeof(value, _OBJECT))
    return _OBJECT + sum(approx_nbytes(v, seen, deeper) for v in fields.values())


class ByteLRU:
    """A thread-safe LRU store bounded in entries and in estimated bytes (`byte_lru_cache` is built on it).

    >>> store = ByteLRU(max_bytes=25_000, maxsize=10)
    >>> store.put("a", bytes(10_000)); store.put("b", bytes(10_000)); store.get("a") is not None
    True
    >>> store.put("c", bytes(8_000)); store.get("b") is None, store.nbytes <= 25_000  # least recently used goes
    (True, True)
    """

    def __init__(self, max_bytes: int, maxsize: int | None = 128, sizeof: Callable[[Any], int] = approx_nbytes):
        self.max_bytes, self.maxsize, self.sizeof = max_bytes, maxsize, sizeof
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self.nbytes = 0

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The stored value (now the most recently used), or `default`."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return default
            self._entries.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: Any, extra_bytes: int = 0) -> None:
        """Store `value` (plus `extra_bytes` counted for it), dropping the least recently used entries to fit; a
        value larger than the whole budget is not kept (it would empty the store)."""
        size = self.sizeof(value) + extra_bytes
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:  # another thread stored it meanwhile
                self.nbytes -= self._entries.pop(key)[1]
            self._entries[key] = (value, size)
            self.nbytes += size
            while self.nbytes > self.max_bytes or (self.maxsize is not None and len(self._entries) > self.maxsize):
                self.nbytes -= self._entries.popitem(last=False)[1][1]

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()
            self.nbytes = 0

    def __len__(self) -> int:
        return len(self._entries)


def byte_lru_cache(max_bytes: int, maxsize: int | None = 128, sizeof: Callable[[Any], int] = approx_nbytes,
                   count_key: bool = False) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator: like `functools.lru_cache(maxsize)`, and the entries' estimated bytes stay within `max_bytes`.

    count_key: also count the arguments' bytes (a key that holds data, e.g. an upload's bytes). The wrapper has
    `cache_info()` (functools' fields), `cache_bytes()` and `cache_clear()`. Thread-safe; like lru_cache, two
    threads missing the same key at once both compute it (`render.pool.shared_render` has single flight).

    >>> @byte_lru_cache(max_bytes=25_000, maxsize=10)
    ... def block(n: int) -> bytes:
    ...     return bytes(n)
    >>> _ = block(10_000), block(10_000), block(10_001), block(8_000)  # 28 000 bytes would not fit: 10 000 goes
    >>> block.cache_info(), block.cache_bytes() <= 25_000
    (CacheInfo(hits=1, misses=3, maxsize=10, currsize=2), True)
    """
    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        store = ByteLRU(max_bytes, maxsize, sizeof)
        stats, stats_lock = {"hits": 0, "misses": 0}, threading.Lock()

        @functools.wraps(function)
        def wrapper(*args: Hashable, **kwargs: Hashable) -> T:
            key = args if not kwargs else args + (_KWARGS,) + tuple(sorted(kwargs.items()))
            found = store.get(key, _MISSING)
            with stats_lock:
                stats["hits" if found is not _MISSING else "misses"] += 1
            if found is not _MISSING:
                return found
            result = function(*args, **kwargs)
            store.put(key, result, extra_bytes=sizeof(key) if count_key else 0)
            return result

        def cache_clear() -> None:
            store.clear()
            with stats_lock:
                stats.update(hits=0, misses=0)

        def cache_info() -> CacheInfo:
            return CacheInfo(stats["hits"], stats["misses"], maxsize, len(store))

        wrapper.cache_clear = cache_clear  # type: ignore[attr-defined]
        wrapper.cache_info = cache_info  # type: ignore[attr-defined]
        wrapper.cache_bytes = lambda: store.nbytes  # type: ignore[attr-defined]
        wrapper.max_bytes = max_bytes  # type: ignore[attr-defined]
        return wrapper

    return decorate
