"""The coverage command's start-up (issue 13, whole command): importing its module brings no
library its run never uses. Each import costs start-up time the user waits for on every run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Not needed by ``servicecircle coverage`` on an OSM network: k-d trees (scipy.spatial, with
#: scipy.special: 60 ms) serve road centre-line files and other commands; the sites' boxes are
#: searched with geo.coverage.core.nodes_in_box.
NOT_AT_START = ("scipy.spatial", "scipy.special")


def _imported(code: str, watch: tuple[str, ...]) -> list[str]:
    """Which of ``watch`` a fresh interpreter has imported after running ``code``."""
    script = code + f"\nimport sys\nprint(' '.join(m for m in {watch!r} if m in sys.modules))\n"
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout.split()


def test_the_coverage_command_imports_only_what_its_run_needs():
    assert _imported("import geo.commands.coverage", NOT_AT_START) == []


def test_a_coverage_run_needs_no_kd_tree():
    """Coverage with its redundancy and isochrones on a street grid: no k-d tree built."""
    code = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, "tests")
        import numpy as np
        from helpers import grid_network, random_points
        from geo.config import Config
        from geo.coverage import compute_coverage

        net = grid_network(8, spacing=150.0)
        rng = np.random.default_rng(1)
        sites = random_points(net, 6, rng, kind=["station"] * 6)
        comms = random_points(net, 40, rng, population=rng.integers(100, 900, 40))
        res = compute_coverage(net, sites, comms, config=Config(use_cache=False))
        assert len(res.isochrones()) and res.communities["sites_within_reach"].sum() > 0
        """
    )
    assert _imported(code, NOT_AT_START) == []


def test_the_check_sees_such_an_import():
    """The same check finds scipy.spatial where a module imports it at its top."""
    assert "scipy.spatial" in _imported("import geo.compare._sources", NOT_AT_START)
