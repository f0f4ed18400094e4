"""The command line as a program freezes its objects before Python's exit (issue 13: exit took
0.3 s of a Helsinki coverage run walking them); called with arguments it changes nothing."""

from __future__ import annotations

import gc
import sys

import pytest

from geo.cli import main


def test_only_the_program_freezes_the_collector(monkeypatch):
    gc.unfreeze()
    try:
        with pytest.raises(SystemExit):
            main(["--help"])  # tests and notebooks pass argv
        assert gc.get_freeze_count() == 0
        monkeypatch.setattr(sys, "argv", ["servicecircle", "--help"])
        with pytest.raises(SystemExit):
            main()  # the console script and python -m geo
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_coverage_command_loads_the_audit_package_only_for_boundaries():
    import subprocess

    from conftest import ROOT

    code = "import sys, geo.commands.coverage; print('geo.audit' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"
    code = "import sys, geo.commands.coverage, geo.audit; print('geo.audit' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.stdout.strip() == "True"  # the check can fail


def test_the_program_freezes_its_imports_before_the_command_runs(monkeypatch, tmp_path):
    import geo.commands.coverage as cov

    seen: list[int] = []
    monkeypatch.setattr(cov, "cmd_coverage", lambda a: seen.append(gc.get_freeze_count()) or 0)
    for name in ("s.csv", "c.csv", "n.graphml"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    args = ["coverage", "--network", str(tmp_path / "n.graphml"), "--sites",
            str(tmp_path / "s.csv"), "--communities", str(tmp_path / "c.csv"),
            "--out", str(tmp_path / "out")]  # fmt: skip
    gc.unfreeze()
    try:
        assert main(args) == 0  # tests and notebooks: nothing frozen
        monkeypatch.setattr(sys, "argv", ["servicecircle", *args])
        assert main() == 0  # the program
        assert seen[0] == 0 and seen[1] > 0
    finally:
        gc.unfreeze()


def test_the_program_imports_its_command_with_the_collector_off(monkeypatch, tmp_path):
    """Python's collector walks every object the imports make, again and again, while they
    run: the program imports its command with it off (geo._memory.imports_uncollected)."""
    import importlib

    import geo.cli._parsers as parsers

    seen: list[bool] = []
    real = importlib.import_module

    def record(name, *a):
        seen.append(gc.isenabled())
        return real(name, *a)

    monkeypatch.setattr(parsers.importlib, "import_module", record)
    monkeypatch.setattr(sys, "argv", ["servicecircle", "coverage", "--network", "x"])
    gc.unfreeze()
    try:
        with pytest.raises(SystemExit):
            main(["coverage", "--network", "x"])  # argument error: no command imported
        args = ["network", "--source", str(tmp_path / "none.osm"), "--out",
                str(tmp_path / "n.graphml")]  # fmt: skip
        main(args)  # tests and notebooks: as they were
        monkeypatch.setattr(sys, "argv", ["servicecircle", *args])
        main()
        assert seen == [True, False] and gc.isenabled()
    finally:
        gc.unfreeze()
