"""benchmarks/province.py's scaling model (issue 13), which RESULTS.md quotes for Dask clusters
larger than this machine: checked against cases whose answer is known by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

_spec = importlib.util.spec_from_file_location(
    "province_benchmark", Path(__file__).parents[1] / "benchmarks" / "province.py"
)
assert _spec is not None and _spec.loader is not None
province = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(province)


def _counties(seconds, clip=None) -> pd.DataFrame:
    return pd.DataFrame({"seconds": seconds, "seconds_clip": clip or [0.0] * len(seconds)})


def test_equal_counties_and_no_serial_part_scale_linearly():
    m = province.scaling_model(_counties([2.0] * 32), {}, ns=(1, 2, 4, 8, 16, 32))
    for n in (1, 2, 4, 8, 16, 32):
        assert m[f"total_s_{n}"] == pytest.approx(64.0 / n)
        assert m[f"speedup_{n}"] == pytest.approx(n) and m[f"efficiency_{n}"] == 1.0


def test_serial_parts_bound_the_speedup_as_amdahl_says():
    m = province.scaling_model(
        _counties([1.0] * 64), {"before_first_task": 6.0, "reports": 2.0}, ns=(1, 8, 64)
    )
    assert m["total_s_1"] == pytest.approx(72.0)
    assert m["total_s_8"] == pytest.approx(16.0)  # 6 + 64 / 8 + 2
    assert m["total_s_64"] == pytest.approx(9.0)
    assert m["speedup_64"] == pytest.approx(8.0) and m["efficiency_64"] == pytest.approx(0.12)


def test_the_largest_county_and_the_clips_set_a_floor():
    # one 10 s county among 1 s ones: on many workers nothing ends before it does
    m = province.scaling_model(_counties([10.0] + [1.0] * 20), {}, ns=(1, 30))
    assert m["total_s_30"] == pytest.approx(10.0)
    # clips one after another in the parent: the last county starts after every clip before it
    m = province.scaling_model(_counties([1.0] * 10, [0.5] * 10), {}, ns=(1, 10))
    assert m["total_s_10"] == pytest.approx(9 * 0.5 + 1.0)
