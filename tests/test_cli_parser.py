"""The parser takes its defaults from Config and geo.config (issue 9.2): changing a default
there changes the command line, with no second copy to forget."""

from __future__ import annotations

import dataclasses

import pytest

from geo.cli import build_parser
from geo.config import CLIP_MARGIN_M, DEFAULT_THRESHOLDS_MIN, MAX_POPULATION, Config


def _sub():
    return build_parser()._subparsers._group_actions[0].choices


def _action(parser, flag: str):
    return next((a for a in parser._actions if flag in a.option_strings), None)


@pytest.mark.parametrize("cmd", ["coverage", "gaps", "map", "audit", "compare"])
def test_walk_defaults_are_configs(cmd):
    p = _sub()[cmd]
    cfg = Config()
    assert p.get_default("minutes") == cfg.minutes
    assert p.get_default("speed_kmh") == cfg.walk_speed_kmh
    assert p.get_default("max_snap_m") == cfg.max_snap_m
    levels = " ".join(f"{m:g}" for m in DEFAULT_THRESHOLDS_MIN)
    assert levels in _action(p, "--levels").help
    assert p.get_default("levels") is None  # None: Config's levels are used


def test_a_changed_config_default_reaches_the_parser(monkeypatch):
    """The check above can fail: the parser reads Config's field defaults when it is built."""
    fields = {f.name: f for f in dataclasses.fields(Config)}
    monkeypatch.setattr(fields["minutes"], "default", 12.5)
    assert _sub()["coverage"].get_default("minutes") == 12.5


def test_planner_and_network_defaults_come_from_config():
    sub = _sub()
    for cmd in ("coverage", "gaps", "map", "audit"):
        assert sub[cmd].get_default("max_population") == MAX_POPULATION
        assert f"{MAX_POPULATION:,.0f}" in _action(sub[cmd], "--max-population").help
    assert f"+ {CLIP_MARGIN_M:g}" in _action(sub["network"], "--buffer-m").help


def test_run_options_on_every_command():
    """-v, -q and --cache-dir (declared once) exist on every command."""
    for name, p in _sub().items():
        for flag in ("-v", "--verbose", "-q", "--quiet", "--cache-dir"):
            assert _action(p, flag) is not None, (name, flag)
