"""Every command-line flag that a message, fix or help text in geo/ names exists in the parser
(issue 9.5: error text once named --lon-col, --name-col and --sheet, which did not exist)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from geo.cli import build_parser

GEO = Path(__file__).resolve().parents[1] / "geo"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
#: Flags of other programs that texts may quote (pip, git, chromium ...).
FOREIGN = {"--headless", "--no-sandbox", "--disable-gpu", "--upgrade", "--user"}


def parser_flags() -> set[str]:
    p = build_parser()
    sub = p._subparsers._group_actions[0].choices
    return {o for sp in [p, *sub.values()] for a in sp._actions for o in a.option_strings}


def named_flags() -> dict[str, list[str]]:
    """flag -> ["file:line", ...] for every string literal in geo/ that names a flag."""
    found: dict[str, list[str]] = {}
    for path in sorted(GEO.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for flag in FLAG.findall(node.value):
                    where = f"{path.relative_to(GEO.parent)}:{node.lineno}"
                    found.setdefault(flag, []).append(where)
    return found


def test_every_flag_named_in_geo_exists():
    flags = parser_flags() | FOREIGN
    missing = {f: w for f, w in named_flags().items() if f not in flags}
    assert not missing, f"texts name flags the parser does not have: {missing}"


def test_the_scan_finds_flags():
    """The scan is not vacuous: it sees flags that error messages really name."""
    named = named_flags()
    assert {"--kind", "--col", "--encoding", "--crs"} <= set(named)
