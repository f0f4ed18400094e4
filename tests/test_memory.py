"""geo._memory.big_arrays_in_heap (issue 13): large arrays come from the heap inside the block
(no mmap per array), and glibc's defaults are back after it."""

from __future__ import annotations

import ctypes
import gc
import sys

import numpy as np
import pytest

from geo import _memory


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


def _mapped_bytes() -> int:
    """Bytes glibc holds in separately mapped blocks (mallinfo2().hblkhd)."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    return int(libc.mallinfo2().hblkhd)


def _glibc_with_mallinfo2() -> bool:
    try:
        return hasattr(ctypes.CDLL("libc.so.6"), "mallinfo2")
    except OSError:
        return False


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not _glibc_with_mallinfo2(), reason="glibc only"
)
def test_big_arrays_come_from_the_heap_inside_the_block_only():
    n = 64 * 2**20 // 8  # 64 MiB: above glibc's largest mmap threshold (32 MiB)
    before = _mapped_bytes()
    a = np.ones(n)
    assert _mapped_bytes() - before >= a.nbytes  # the default: mapped on its own
    del a
    with _memory.big_arrays_in_heap() as ok:
        assert ok
        before = _mapped_bytes()
        b = np.ones(n)
        assert _mapped_bytes() - before < b.nbytes  # from the heap
        del b
    before = _mapped_bytes()
    c = np.ones(n)
    assert _mapped_bytes() - before >= c.nbytes  # defaults restored
    del c


@pytest.mark.skipif(_memory._numpy_hugepages(True) is None, reason="NumPy without the switch")
@pytest.mark.parametrize("outside", [True, False])
def test_numpy_huge_page_advice_is_off_inside_the_block_then_restored(outside):
    """numpy/numpy#31590: the advice outlives heap arrays; the block turns it off, then puts
    back whatever the process had (the NUMPY_MADVISE_HUGEPAGE setting, say)."""
    was = _memory._numpy_hugepages(outside)
    try:
        with _memory.big_arrays_in_heap() as ok:
            assert _memory._numpy_hugepages(False) is (False if ok else outside)
        assert _memory._numpy_hugepages(outside) is outside
    finally:
        _memory._numpy_hugepages(bool(was))


def test_without_glibc_nothing_changes(monkeypatch):
    monkeypatch.setattr(_memory, "_libc", lambda: None)
    with _memory.big_arrays_in_heap() as ok:
        assert ok is False


def test_imports_uncollected_collects_nothing_then_freezes_what_it_made():
    runs: list[str] = []

    def seen(phase, info) -> None:
        if phase == "start":
            runs.append(info["generation"])

    gc.unfreeze()
    gc.callbacks.append(seen)
    try:
        before = gc.get_freeze_count()
        with _memory.imports_uncollected():
            assert not gc.isenabled()
            made = [[i] for i in range(50_000)]  # far above the threshold of a collection
        assert runs == [] and gc.isenabled()
        assert gc.get_freeze_count() >= before + len(made)
        gc.disable()  # a collector already off stays off
        with _memory.imports_uncollected():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.callbacks.remove(seen)
        gc.unfreeze()
