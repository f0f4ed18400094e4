"""glibc's allocator while the audit process parses a province (issue 13).

Each NumPy array above glibc's mmap threshold (at most 32 MiB) is mapped from the kernel when
made and unmapped when freed, so every large temporary of the parse (a province has 10.8 M
street vertices: 86 MB per float array) is paid for again page by page. On this project's
virtual machines those page faults were 4.7-5.2 s of system time in a 13 s province parse.
:func:`big_arrays_in_heap` keeps such arrays in the heap for the duration of a block, where a
freed one is reused by the next, then restores glibc's defaults and hands the free memory back
to the system (``malloc_trim``): the parse's system time fell to 2.9-3.1 s, its peak memory
rose 2-4%.

NumPy also asks the kernel for transparent huge pages (``madvise(MADV_HUGEPAGE)``) on every
array of 4 MiB or more. On heap memory that advice outlives the array, and where the kernel's
THP ``defrag`` setting is ``madvise`` (Debian's default) each later fault there may stall on a
synchronous compaction (numpy/numpy#31590). Inside the block NumPy's advice is off: the
province parse fell from 5.7-6.1 s to 4.4-5.0 s, its system time from 2.4-2.9 s to 1.3-1.4 s.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Iterator

logger = logging.getLogger(__name__)

# mallopt parameters (malloc.h) and glibc's defaults for them
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_DEFAULT_TRIM_THRESHOLD, _DEFAULT_MMAP_MAX = 128 * 1024, 65536
#: While in the block: free memory is given back only above this much (bytes).
HELD_TRIM_THRESHOLD = 4 * 1024**3


def _libc():
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt  # noqa: B018 - glibc only
        libc.malloc_trim  # noqa: B018
        return libc
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        return None


def _numpy_hugepages(enabled: bool) -> bool | None:
    """Set whether NumPy advises huge pages for its large arrays; the previous setting, or
    None where this NumPy has no such switch (not Linux, or a version without it)."""
    try:
        from numpy._core import multiarray
    except ImportError:  # NumPy 1.x
        from numpy.core import multiarray  # type: ignore[no-redef]
    setter = getattr(multiarray, "_set_madvise_hugepage", None)
    if setter is None:
        return None
    return bool(setter(enabled))


@contextlib.contextmanager
def big_arrays_in_heap() -> Iterator[bool]:
    """Within the block, large allocations come from the heap and stay there once freed (glibc
    only; elsewhere nothing changes). Yields whether the setting took effect. On leaving, the
    defaults come back and free heap memory is returned to the system."""
    libc = _libc()
    ok = bool(
        libc is not None
        and libc.mallopt(_M_MMAP_MAX, 0)
        and libc.mallopt(_M_TRIM_THRESHOLD, HELD_TRIM_THRESHOLD)
    )
    if libc is not None and not ok:  # a half-made setting is undone
        libc.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
    hugepages = _numpy_hugepages(False) if ok else None
    try:
        yield ok
    finally:
        if hugepages is not None:
            _numpy_hugepages(hugepages)
        if ok and libc is not None:
            libc.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
            libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
            libc.malloc_trim(0)


@contextlib.contextmanager
def imports_uncollected() -> Iterator[None]:
    """No garbage collection within the block, then what it made is frozen out of the
    collector's way (:func:`gc.freeze`) and collection resumes as it was. For a block of
    imports in a process that lives only for one command: the modules, classes and functions
    they make live to the exit, and every collection the allocations trigger meanwhile walks
    them all again (Helsinki coverage: 0.06-0.07 s of the command's imports, 0.13-0.17 s of the
    maps' child's folium and matplotlib)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was:
            gc.enable()
