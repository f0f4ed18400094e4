"""County audits in a worker started with ``MALLOC_TRIM_THRESHOLD_`` (Dask's nanny sets 65,536)
get glibc's usual malloc thresholds back (issue 13: Dask scaling): freed NumPy arrays are
reused from the heap instead of being mapped from the kernel again, page by page."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_CODE = """
import resource
import numpy as np
from geo.audit._pool import undo_malloc_trim

def faults():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(40):
        a = np.ones(1 << 18)  # 2 MiB, written
        del a
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

faults()
pinned = faults()
done = undo_malloc_trim()
again = undo_malloc_trim()
faults()
print(done, again, pinned, faults())
"""


def _run(env_value: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    if env_value is not None:
        env["MALLOC_TRIM_THRESHOLD_"] = env_value
    out = subprocess.run([sys.executable, "-c", _CODE], env=env, capture_output=True,
                         text=True, check=True)  # fmt: skip
    return out.stdout.split()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_dask_worker_allocator_gets_its_heap_back():
    done, again, pinned, tuned = _run("65536")
    assert done == "True" and again == "False"  # once per process
    # pinned: each 2 MiB array mapped anew (512 pages each); tuned: the heap's pages reused
    assert int(pinned) > 40 * 400
    assert int(tuned) < int(pinned) / 10


def test_nothing_changes_without_the_variable():
    done, again, _, _ = _run(None)
    assert done == "False" and again == "False"
