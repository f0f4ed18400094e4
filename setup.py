"""The compiled parts of servicecircle: the distance field of grid isochrones and the parser of
libosmium's OPL way lines.

Everything else is in pyproject.toml. The extensions are optional: where no C compiler is
available the install goes on and geo.coverage._grid and geo.network._opl use their NumPy
paths (same results, slower).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("geo.coverage._fieldc", ["geo/coverage/_fieldc.c"], optional=True),
        Extension(
            "geo.network._oplc",
            ["geo/network/_oplc.c", "geo/network/_oplc_lines.c", "geo/network/_oplc_values.c"],
            depends=["geo/network/_oplc.h"],
            optional=True,
        ),
    ]
)
