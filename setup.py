"""The one compiled part of servicecircle: the distance field of grid isochrones.

Everything else is in pyproject.toml. The extension is optional: where no C compiler is
available the install goes on and geo.coverage._grid uses its NumPy path (same polygons within
the isochrones' tolerance, about twice as slow).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("geo.coverage._fieldc", ["geo/coverage/_fieldc.c"], optional=True),
    ]
)
