"""Regenerate the README's column reference from the registry (geo/schema.py).

python scripts/readme_columns.py          # rewrite README.md in place
python scripts/readme_columns.py --check  # exit 1 when README.md is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from geo import schema

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- columns:start -->", "<!-- columns:end -->"


def render(text: str) -> str:
    """``text`` with the block between the markers replaced by the registry's table."""
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{schema.markdown_table()}{END}{tail}"


def main(argv: list[str]) -> int:
    text = README.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in argv:
        return 0 if new == text else 1
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
