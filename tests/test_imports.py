"""Imports run one way (issue 9.3): io -> network -> coverage -> optimize -> maps/report ->
audit -> cli; every module imports on its own (no cycles); no private names are imported
from another subpackage (beyond the known cases listed below, each with its owner)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GEO = ROOT / "geo"
SUBPACKAGES = {p.name for p in GEO.iterdir() if (p / "__init__.py").exists()}

#: Layer of each part of geo: a module may import from its own layer or a lower one.
LAYERS = {
    "geo._errors": 0, "geo.config": 0, "geo.schema": 0, "geo._schema_columns": 0,
    "geo._schema_registry": 0, "geo._schema_text": 0,
    "geo._fonts": 0, "geo.crs": 0, "geo._safety": 0, "geo._checks": 0, "geo._background": 0, "geo._memory": 0, "geo._spawned": 0,
    "geo.io": 1,
    "geo.network": 2,
    "geo.coverage": 3,
    "geo.optimize": 4,
    "geo.maps": 5, "geo.outputs": 5, "geo._maps_job": 5, "geo.report_xlsx": 5, "geo._xlsx_bulk": 5, "geo._xlsx_parts": 5,
    "geo.demo": 5,
    "geo.audit": 6, "geo.compare": 6,
    "geo.commands": 7, "geo.cli": 7, "geo.__main__": 7,
    "geo": 8,
}  # fmt: skip

#: Private names imported across subpackages today: (importer, imported module) -> owner.
#: Shrink this list; never grow it (make the name public in its subpackage instead).
KNOWN_PRIVATE: dict[tuple[str, str], str] = {}


def modules() -> list[str]:
    out = []
    for p in sorted(GEO.rglob("*.py")):
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append(".".join(parts))
    return out


def _module_of(name: str) -> Path | None:
    base = ROOT / name.replace(".", "/")
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.exists():
            return p
    return None


def imports() -> list[tuple[str, str, str, int]]:
    """(importer, imported module, imported name or "", line) for every geo import, including
    the ones inside functions."""
    out = []
    for mod in modules():
        path = _module_of(mod)
        pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                out += [(mod, a.name, "", node.lineno) for a in node.names if _ours(a.name)]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                if not _ours(base):
                    continue
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    if _module_of(sub) is not None:
                        out.append((mod, sub, "", node.lineno))
                    else:
                        out.append((mod, base, a.name, node.lineno))
    return out


def _ours(name: str) -> bool:
    return name == "geo" or name.startswith("geo.")


def layer(mod: str) -> int:
    keys = [k for k in LAYERS if mod == k or mod.startswith(k + ".")]
    assert keys, f"{mod} has no layer in tests/test_imports.py: add it to LAYERS"
    return LAYERS[max(keys, key=len)]


def test_imports_follow_the_layers():
    up = [
        f"{src} (layer {layer(src)}) imports {dst} (layer {layer(dst)}) at line {line}"
        for src, dst, _, line in imports()
        if layer(dst) > layer(src)
    ]
    assert not up, "imports against the flow io -> ... -> cli:\n" + "\n".join(up)


def _subpackage(mod: str) -> str | None:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in SUBPACKAGES else None


def test_no_new_private_imports_across_subpackages():
    found = set()
    for src, dst, name, _ in imports():
        sub = _subpackage(dst)
        if sub is None or sub == _subpackage(src):
            continue
        below = dst.split(".")[2:] + ([name] if name else [])
        if any(p.startswith("_") and not p.startswith("__") for p in below):
            found.add((src, dst))
    new = sorted(found - set(KNOWN_PRIVATE))
    assert not new, f"private names imported from another subpackage: {new}"


def test_each_module_imports_alone():
    """Each module is imported first in a fresh interpreter (forked after numpy/pandas/
    geopandas load, before any geo module), so an import cycle fails whatever the order."""
    script = textwrap.dedent(
        """
        import os, sys, traceback
        import numpy, pandas, geopandas, shapely, scipy.sparse, pyproj, folium, networkx  # noqa
        failed = []
        for mod in sys.argv[1:]:
            pid = os.fork()
            if pid == 0:
                try:
                    __import__(mod)
                except BaseException:
                    traceback.print_exc()
                    os._exit(1)
                os._exit(0)
            _, status = os.waitpid(pid, 0)
            if status != 0:
                failed.append(mod)
        print("FAILED", " ".join(failed))
        sys.exit(1 if failed else 0)
        """
    )
    mods = [m for m in modules() if m != "geo.__main__"]
    r = subprocess.run(
        [sys.executable, "-c", script, *mods], capture_output=True, text=True, cwd=ROOT
    )
    assert r.returncode == 0, r.stdout + r.stderr[-4000:]
    assert len(mods) > 40


def test_the_checks_can_fail():
    """The layer check sees a lower layer importing a higher one."""
    assert layer("geo.io._points") < layer("geo.coverage") < layer("geo.cli")
    found = imports()
    assert any(
        dst.startswith("geo.coverage") for src, dst, _, _ in found if src.startswith("geo.commands")
    )


def test_no_matplotlib_backend_switch():
    """Drawing a PNG never switches a notebook user's matplotlib backend (issue 9.6)."""
    assert not [p for p in GEO.rglob("*.py") if "matplotlib.use(" in p.read_text(encoding="utf-8")]
    script = textwrap.dedent(
        """
        import matplotlib, pandas as pd, tempfile, pathlib
        matplotlib.use("svg")
        from geo.outputs import plot_marginal_gain
        curve = pd.DataFrame({"new_sites": [0, 1, 2], "covered_share": [0.5, 0.6, 0.65]})
        out = pathlib.Path(tempfile.mkdtemp()) / "m.png"
        plot_marginal_gain(curve, out)
        assert out.stat().st_size > 1000
        print(matplotlib.get_backend())
        """
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "svg"
