"""Shared fixtures: the real data in ../shared/data, small synthetic networks, temp caches."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from geo.config import Config

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SERVICECIRCLE_SHARED_DATA", ROOT.parent / "shared" / "data"))

REAL_NETWORKS = {
    "optics_valley": SHARED / "wuhan" / "optics_valley.osm",
    "roads_central": SHARED / "wuhan" / "roads_central" / "WHroad.shp",
    "roads_main": SHARED / "wuhan" / "roads_main" / "osmWHmainRoad.shp",
    "shanghai": SHARED / "shanghai" / "shanghai_center.osm",
}
DISTRICTS = SHARED / "wuhan" / "districts" / "wuhan_districts.shp"
ARTIFACTS = ROOT / "tests" / "artifacts"


def need_shared(path: Path) -> Path:
    """Skip (with the reason) only when the shared data folder is absent."""
    if not SHARED.exists():
        pytest.skip(f"real data folder {SHARED} is absent (see its README)")
    assert path.exists(), f"{path} missing although {SHARED} exists"
    return path


@pytest.fixture(scope="session", autouse=True)
def _own_network_cache(tmp_path_factory):
    """The tests' default network cache is theirs, not the user's (``~/.cache``): cached
    networks are shared between the tests of one session only, and county pieces cached by
    one audit never reach another session's."""
    old = os.environ.get("SERVICECIRCLE_CACHE")
    os.environ["SERVICECIRCLE_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("SERVICECIRCLE_CACHE", None)
    else:
        os.environ["SERVICECIRCLE_CACHE"] = old


@pytest.fixture
def cfg(tmp_path) -> Config:
    return Config(cache_dir=tmp_path / "cache")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module", params=["compiled", "numpy"])
def opl_parser(request):
    """A module's tests twice: the compiled OPL parser and the NumPy path (installs without a C
    compiler; see tests/test_osm_oplc.py). Use with ``pytest.mark.usefixtures("opl_parser")``."""
    import geo.network._opl as _opl

    saved = _opl.PARSER
    if request.param == "compiled" and saved is None:
        pytest.skip("geo.network._oplc not built")
    _opl.PARSER = saved if request.param == "compiled" else None
    yield request.param
    _opl.PARSER = saved
