"""The province reports' own helpers (geo.audit._report)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.audit._report import _xml_safe


def test_xml_safe_fixes_only_what_xlsx_cannot_hold():
    df = pd.DataFrame(
        {
            "a": ["社区\x0b一", "ok", np.nan, 3],
            "b": ["x\ny", "plain", None, "z"],
            "n": [1.0, 2.0, np.nan, 4.0],
        }
    )
    got = _xml_safe(df)
    assert got["a"].tolist()[:2] == ["社区\\x0b一", "ok"] and got["a"].tolist()[3] == 3
    assert got["b"].tolist()[:2] == ["x\ny", "plain"] and got["b"].tolist()[3] == "z"
    assert got["n"].equals(df["n"])
    assert df.loc[0, "a"] == "社区\x0b一"  # the input frame is left as it was
