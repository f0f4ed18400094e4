"""Every notebook runs top to bottom, offline, on bundled data."""

from __future__ import annotations

import json

import nbformat
import pytest
from conftest import ROOT
from nbclient import NotebookClient

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_four_notebooks_stored_without_outputs():
    assert len(NOTEBOOKS) == 4
    for nb in NOTEBOOKS:
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        assert all(not c.get("outputs") for c in cells), f"{nb.name} has outputs"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    # every map shows inline (the offline page itself), not only as a saved file
    src = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    html = [
        o["data"]["text/html"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.get("data", {}).get("text/html")
    ]
    n_maps = src.count("geo.inline_map(") + src.count("geo.scenario(")
    assert sum("<iframe srcdoc=" in h for h in html) == n_maps
    if "make_map(" in src or "change_map(" in src:
        assert n_maps > 0, "a map is made but not shown inline"
    # charts are labelled in Chinese
    for line in src.splitlines():
        if "set_xlabel(" in line or "set_ylabel(" in line or "set_title(" in line:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in line), line
