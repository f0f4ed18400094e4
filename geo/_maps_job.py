"""The maps' job of a coverage run (map.html, map.png), in a forked child where that is safe
(:mod:`geo._background`): started before the run exists (the command line), it imports folium
and matplotlib meanwhile; then it gets the run, then the isochrones
(:func:`geo.outputs.write_coverage_outputs`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import _background

#: What the maps' job needs of a run (keyword arguments of :meth:`_Maps.receive`).
_MAP_INPUTS = ("res", "out", "map_kwargs", "proposal", "views")


def start_maps(*, parallel: bool = True) -> _background.Job:
    """The maps' job (map.html, map.png) started before the run exists (the command line):
    its child imports folium and matplotlib while this process loads the network and computes
    the coverage. :func:`geo.outputs.write_coverage_outputs` (``maps_job=``) gives it the run, then the
    isochrones; ``close()`` it when the command stops before."""
    writer = _Maps()
    return _background.start(writer.write, parallel=parallel, wait_input=True,
                             prepare=_warm_maps, early=writer.early,
                             what="map.html and map.png")  # fmt: skip


class _Maps:
    """The maps' job. In its forked child, while this process builds the isochrones,
    :meth:`receive` gets the run: it makes map.html's page when the page does not carry the
    walking areas (scenario mode, the default, draws its own) and draws map.png up to its
    walking areas (:class:`geo.maps.PngDraft`). When the page is made, map.png shows only the
    main level's walking areas: :meth:`early` finishes it as soon as those come, while this
    process makes the other levels. :meth:`write` does the rest once all exist.
    Written in this process (no fork), only :meth:`write` runs: the same files."""

    def __init__(self, inputs: dict[str, Any] | None = None) -> None:
        self._inputs = inputs  # the run, when known before the child is forked
        self._png: tuple[dict, Any] | None = None
        self._page: tuple[Any, str] | None = None
        self._png_done: dict[str, Any] | None = None

    def early(self, **part: Any) -> None:
        """A part of the input that came before the last: the run, or the main level's
        isochrones (``main_isochrones``)."""
        if "main_isochrones" in part:
            self._finish_png(part["main_isochrones"])
        else:
            self.receive(**part)

    def _finish_png(self, main_iso) -> None:
        """map.png with the main level's walking areas (as :func:`_write_maps` draws it with
        all of them), when the page and the draft exist."""
        if self._page is None or self._png is None or self._inputs is None:
            return
        kw = {**self._page[0]._sc_png, "isochrones": main_iso}
        if all(_same(self._png[0][k], kw[k]) for k in _PNG_PASSED):
            path = self._inputs["out"] / "map.png"
            done = self._png[1].finish(path, main_iso, title=kw["title"], summary=kw["summary"])
            self._png_done = done

    def prepare(self) -> None:
        _warm_maps()
        if self._inputs is not None:
            self.receive(**self._inputs)

    def receive(self, **inputs: Any) -> None:
        self._inputs = inputs
        run = [inputs[k] for k in _MAP_INPUTS]
        res, _, map_kwargs, proposal, views = run
        if map_kwargs.get("scenario", False) is not False:  # else the page has the isochrones
            self._page = _early_page(res, map_kwargs, proposal, views)
        self._png = _png_draft(*run)

    def write(self, iso, **inputs: Any) -> dict[str, Any]:
        run = {**(self._inputs or {}), **inputs}
        return _write_maps(*(run[k] for k in _MAP_INPUTS), iso, png=self._png, page=self._page,
                           png_done=self._png_done)  # fmt: skip


def _make_map(res, map_kwargs: dict, proposal, views, iso):
    from .maps import make_map

    kw = dict(map_kwargs)
    offline = kw.pop("offline", True)
    if proposal is not None:
        kw["proposals"] = proposal.sites
        kw.setdefault("proposal_summary", proposal.summary)
    return make_map(res, isochrones=iso, offline=offline, views=views, **kw)


#: The options of map.png that make_map passes through as it got them (``_sc_png``); the
#: title, the summary lines and the walking areas come from the map once it is made.
_PNG_PASSED = ("lang", "proposals", "boundaries", "background", "site_in_area")


def _png_draft(res, out: Path, map_kwargs: dict, proposal, views) -> tuple[dict, Any]:
    """map.png drawn up to its walking areas, title and summary, and the options it was drawn
    with (those make_map will pass it)."""
    from .maps import PngDraft

    opts = {k: map_kwargs.get(k) for k in _PNG_PASSED}
    opts["lang"] = map_kwargs.get("lang", "zh")
    if proposal is not None:
        opts["proposals"] = proposal.sites
    return opts, PngDraft(res, **opts, tiles=not map_kwargs.get("offline", True))


def _same(a: object, b: object) -> bool:
    """The same object, or equal texts."""
    return a is b or (isinstance(a, str) and a == b)


def _early_page(res, map_kwargs: dict, proposal, views) -> tuple[Any, str] | None:
    """map.html's map and page, made before the isochrones exist, when the page does not carry
    them (scenario mode draws its walking areas itself): the same page as made after."""
    from .maps import map_page

    m = _make_map(res, map_kwargs, proposal, views, res.isochrones(minutes=[]))
    if m._sc_draws_isochrones:
        return None
    return m, map_page(m, offline=map_kwargs.get("offline", True))


def _write_maps(res, out: Path, map_kwargs: dict, proposal, views, iso,
                png: tuple[dict, Any] | None = None, page: tuple[Any, str] | None = None,
                png_done: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """map.html (``page``: made before, from :func:`_early_page`) and map.png (finishing
    ``png``, a draft from :func:`_png_draft`, when it was drawn with the options the map gives
    the PNG; ``png_done``: written already, by :meth:`_Maps.early`); returns summary.json's
    ``map`` entry."""
    from .maps import save_map, save_png

    offline = map_kwargs.get("offline", True)
    m, text = page if page is not None else (_make_map(res, map_kwargs, proposal, views, iso), None)
    info = save_map(m, out / "map.html", offline=offline, page=text)
    # the same title, numbers, proposals, background and walking areas as the map
    kw = {**m._sc_png, "isochrones": iso}
    if png_done is not None:
        done = png_done
    elif png is not None and all(_same(png[0][k], kw[k]) for k in _PNG_PASSED):
        done = png[1].finish(out / "map.png", iso, title=kw["title"], summary=kw["summary"])
    else:
        done = save_png(res, out / "map.png", **kw, tiles=not offline)
    return {
        "file": "map.html",
        "size_bytes": info["size_bytes"],
        "offline": offline,
        "png": {"file": "map.png", "tiles": done["tiles"]},
    }


def _warm_maps() -> None:
    """What every map needs first: folium, matplotlib's modules and the font lookups (in the
    child, while this process builds the isochrones)."""
    from matplotlib import figure, lines, patches, patheffects  # noqa: F401
    from matplotlib.backends import backend_agg  # noqa: F401

    from . import maps  # noqa: F401
    from ._fonts import heading_weight

    heading_weight()  # finds the CJK font too
