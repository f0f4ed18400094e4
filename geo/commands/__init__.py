"""What each ``servicecircle`` command does; :mod:`geo.cli` parses the arguments.

One module per command: :mod:`~geo.commands.demo`, :mod:`~geo.commands.network`,
:mod:`~geo.commands.coverage`, :mod:`~geo.commands.map`, :mod:`~geo.commands.gaps`,
:mod:`~geo.commands.audit` and :mod:`~geo.commands.compare`, each with its ``cmd_<name>(args)``
returning the exit code. What they share: reading the inputs (:mod:`geo.commands._inputs`),
the demand views, map options and summary extras (:mod:`geo.commands._views`) and what they
print (:mod:`geo.commands._console`).

:mod:`geo.cli` imports a command's module only when that command runs, and this package
imports none of them eagerly: ``--help`` stays fast.
"""

from __future__ import annotations

import importlib

#: command function -> module of this package that holds it
_WHERE = {
    "cmd_demo": "demo",
    "cmd_network": "network",
    "cmd_coverage": "coverage",
    "cmd_map": "map",
    "cmd_gaps": "gaps",
    "cmd_audit": "audit",
    "cmd_compare": "compare",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    """``geo.commands.cmd_coverage`` and the like, imported when first asked for."""
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    if name == "_median_text":  # its old name, kept for callers
        return importlib.import_module("._console", __name__).median_text
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
