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
