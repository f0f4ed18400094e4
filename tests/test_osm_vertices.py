"""OPL vertex lists parsed by pandas' C reader (issue 13) give exactly the doubles ``float()``
gives (and so libosmium's ``Location.lon``/``lat``), and the exact node ids."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo._errors import NetworkError
from geo.network._opl import _parse_opl_nodes, _vertex_table


def _coord(units: int) -> str:
    """libosmium's text for a coordinate of ``units`` 1e-7 degrees: trailing zeros dropped."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**7)
    frac_s = f"{frac:07d}".rstrip("0")
    return f"{sign}{whole}" + (f".{frac_s}" if frac_s else "")


_VERTEX = st.tuples(
    st.integers(-(2**53) + 1, 2**53 - 1),
    st.integers(-1_800_000_000, 1_800_000_000),
    st.integers(-900_000_000, 900_000_000),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_VERTEX, min_size=1, max_size=60))
def test_vertex_table_equals_float_of_each_field(vertices):
    text = ",".join(f"n{i}x{_coord(x)}y{_coord(y)}" for i, x, y in vertices).encode()
    ref, lon, lat = _vertex_table(text)
    assert ref.tolist() == [i for i, _, _ in vertices]
    assert lon.tolist() == [float(_coord(x)) for _, x, _ in vertices]  # bit for bit
    assert lat.tolist() == [float(_coord(y)) for _, _, y in vertices]
    assert lon.tolist() == [x / 1e7 for _, x, _ in vertices]  # libosmium: units / 1e7


def test_missing_locations_and_empty_lines():
    data = (
        b"w1 Thighway=path Nn1x1.5y2,n2xy\nw2 Thighway=path N\nw3 Thighway=path Nn3x-0.0000001y0\n"
    )
    count, ref, lon, lat = _parse_opl_nodes(data)
    assert count.tolist() == [2, 0, 1]
    assert ref.tolist() == [1, 2, 3]
    assert lon.tolist() == [1.5, 1e9, -1e-7]
    assert lat.tolist() == [2.0, 1e9, 0.0]
    assert _vertex_table(b"")[0].size == 0


def test_unparsable_text_is_a_clear_error():
    with pytest.raises(NetworkError, match="OPL"):
        _vertex_table(b"n1x1.5y2,n2x1.5")
    with pytest.raises(NetworkError, match="OPL"):
        _vertex_table(b"n1xaby2")
    assert np.array_equal(_vertex_table(b"n7x1y2")[0], [7])
