"""Checks on parsed command-line arguments, before any work starts (issue 11).

Numbers that would give a plausible wrong answer (``--speed-kmh 0``, ``--grid-spacing-m 0``)
or a traceback (``--min-kind-count integrated=x``) are refused with one line naming the flag,
the value and the fix; output paths that are the wrong kind of thing (``map --out`` a folder,
``coverage --out`` a file) or that would replace an input file are refused the same way.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ._errors import InputError
from ._safety import check_out_dir, check_out_file, refuse_overwrite

#: Files ``coverage``/``gaps`` write into ``--out`` (see geo.outputs.write_coverage_outputs).
COVERAGE_FILES = (
    "communities.csv", "sites.csv", "rejects.csv", "isochrones.geojson", "summary.json",
    "map.html", "map.png", "proposed_sites.csv", "marginal_gain.csv", "marginal_gain.png",
    "candidates.csv", "streets.csv", "uncovered_streets.geojson", "workplaces.csv",
)  # fmt: skip

# attribute -> (flag, kind): "pos" > 0, "nonneg" >= 0, "share" in (0, 1], "posint" integer >= 1
_NUMBERS = {
    "minutes": ("--minutes", "pos"),
    "speed_kmh": ("--speed-kmh", "pos"),
    "max_distance_m": ("--max-distance-m", "pos"),
    "max_snap_m": ("--max-snap-m", "pos"),
    "buffer_m": ("--buffer-m", "nonneg"),
    "grid_spacing_m": ("--grid-spacing-m", "pos"),
    "time_limit": ("--time-limit", "pos"),
    "new_sites": ("--new-sites", "posint"),
    "target_share": ("--target-share", "share"),
    "coverage_target": ("--coverage-target", "share"),
    "integrated_target": ("--integrated-target", "nonneg"),
    "workers": ("--workers", "posint"),
}
_RULES = {
    "pos": ("must be a number greater than zero", lambda v: v > 0),
    "nonneg": ("must be zero or more", lambda v: v >= 0),
    "share": ("must be a share between 0 and 1 (e.g. 0.95)", lambda v: 0 < v <= 1),
    "posint": ("must be a whole number of at least 1", lambda v: v >= 1 and v == int(v)),
}


def _bad(flag: str, value: object, rule: str, example: str) -> InputError:
    return InputError(f"{flag} {rule}", value=value, fix=f"pass e.g. {flag} {example}")


def check_numbers(a: argparse.Namespace) -> None:
    """Refuse zero, negative, infinite or NaN values for the numeric options."""
    for attr, (flag, kind) in _NUMBERS.items():
        v = getattr(a, attr, None)
        if v is None:
            continue
        rule, ok = _RULES[kind]
        example = {"share": "0.95", "posint": "2", "nonneg": "10"}.get(kind, "4")
        if not (isinstance(v, (int, float)) and math.isfinite(v) and ok(v)):
            raise _bad(flag, v, rule, example)
    for level in getattr(a, "levels", None) or []:
        if not (math.isfinite(level) and level > 0):
            raise _bad(
                "--levels", level, "takes walk times in minutes greater than zero", "5 10 15"
            )
    mk = getattr(a, "min_kind_count", None)
    if mk is not None:
        kind, eq, n = str(mk).partition("=")
        try:
            count = int(n.strip())
        except ValueError:
            count = -1
        if not eq or not kind.strip() or count < 0:
            raise InputError(
                "--min-kind-count takes KIND=N with a whole number N of 0 or more",
                value=mk,
                fix="pass e.g. --min-kind-count integrated=10",
            )


def _inputs(a: argparse.Namespace) -> list[object]:
    names = (
        "sites", "communities", "network", "candidates", "boundary", "boundaries", "source",
        "workplaces", "buildings",
    )  # fmt: skip
    return [getattr(a, k) for k in names if getattr(a, k, None) is not None]


def check_outputs(a: argparse.Namespace) -> None:
    """``--out`` (and ``--png``) are the right kind of path and replace no input file."""
    cmd = getattr(a, "command", None)
    out = getattr(a, "out", None)
    if out is None or cmd == "demo":
        return
    ins = _inputs(a)
    if cmd in ("coverage", "gaps"):
        d = check_out_dir(out)
        refuse_overwrite([d / f for f in COVERAGE_FILES], ins)
    elif cmd == "map":
        f = check_out_file(out, (".html",))
        png = getattr(a, "png", None)
        if png:
            check_out_file(png, (".png",), flag="--png")
        refuse_overwrite([f, f.with_name("rejects.csv")], ins)  # map writes rejects beside it
        if png:
            refuse_overwrite([png], ins, flag="--png")
    elif cmd == "network":
        f = check_out_file(out, (".graphml", ".npz"))
        refuse_overwrite([f], ins)
    elif cmd == "audit":
        check_out_dir(out)  # run_audit refuses overwriting inputs itself


def check_args(a: argparse.Namespace) -> None:
    """All argument checks; raises :class:`InputError` (exit code 2) on the first problem."""
    check_numbers(a)
    check_outputs(a)


def lock_folder(a: argparse.Namespace) -> Path | None:
    """The folder a command writes into and must lock (audit locks its own, in run_audit)."""
    if getattr(a, "command", None) in ("coverage", "gaps"):
        return Path(a.out)
    return None
