"""Before/after comparison: two site lists on one network, or two audits county by county.

>>> cmp = compare_sites(net, communities, before_sites, after_sites, config=cfg)
>>> cmp.counties          # compare.csv: contract columns first
>>> cmp.communities       # every community newly covered or lost, distances before and after
>>> cmp.write("out/")     # compare.csv, compare.xlsx, communities_changed.csv,
...                       # site_changes.csv, target_progress.csv, compare_map.html

Both ways give the same tables. County totals count the main 15-minute level (or the run's
main level when there is no 15-minute level); integrated sites are the sites of kind
``integrated`` in each county (from the sites' ``county`` column, or the audit's in-county
flag); a community is *gained* when it was uncovered before and is covered after, *lost* the
other way round.
"""

from __future__ import annotations

import logging
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .config import Config

logger = logging.getLogger(__name__)

__all__ = [
    "COMPARE_COLUMNS",
    "CompareResult",
    "compare",
    "compare_audits",
    "compare_sites",
]

#: Contract columns of compare.csv, in order.
COMPARE_COLUMNS = [
    "county",
    "population_covered_15min_before",
    "population_covered_15min_after",
    "delta",
    "sites_integrated_before",
    "sites_integrated_after",
]
INTEGRATED_TARGET = 10
OUTPUT_FILES = (
    "compare.csv",
    "compare.xlsx",
    "communities_changed.csv",
    "site_changes.csv",
    "target_progress.csv",
    "compare_map.html",
)
#: A site is "moved" when the same site (id, else kind and name) is more than this far away.
MOVED_M = 5.0
ALL = "全部"

CHANGE_ZH = {
    "gained": "新覆盖",
    "lost": "失去覆盖",
    "added": "新增",
    "moved": "移动",
    "closed": "关闭",
}
SHEETS_EN = {
    "counties": "Counties",
    "progress": "Target progress",
    "communities": "Communities changed",
    "sites": "Site changes",
}
SHEETS = {
    "counties": "区县对比",
    "progress": "目标进展",
    "communities": "社区变化",
    "sites": "站点变化",
}


def _arrow(before: float, after: float) -> str:
    if not (np.isfinite(before) and np.isfinite(after)) or abs(after - before) < 1e-9:
        return "→"
    return "↑" if after > before else "↓"


@dataclass(frozen=True, eq=False)
class CompareResult:
    """Tables of a before/after comparison (see the module docstring)."""

    counties: pd.DataFrame
    communities: pd.DataFrame
    sites: pd.DataFrame
    progress: pd.DataFrame
    all_communities: pd.DataFrame = field(repr=False)
    meta: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "counties": self.counties,
            "progress": self.progress,
            "communities": self.communities,
            "sites": self.sites,
        }

    def _repr_html_(self) -> str:  # notebooks show the county table and the changes
        return (
            self.counties.to_html(index=False)
            + self.progress.to_html(index=False)
            + self.communities.head(50).to_html(index=False)
        )

    def write(self, out: str | Path, *, lang: str = "zh", write_map: bool = True) -> dict:
        """compare.csv, compare.xlsx, communities_changed.csv, site_changes.csv,
        target_progress.csv and compare_map.html inside ``out``."""
        from .io import write_csv

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "compare_csv": write_csv(self.counties, out / "compare.csv"),
            "communities_csv": write_csv(self.communities, out / "communities_changed.csv"),
            "sites_csv": write_csv(self.sites, out / "site_changes.csv"),
            "progress_csv": write_csv(self.progress, out / "target_progress.csv"),
        }
        paths["compare_xlsx"] = write_xlsx(self.tables(), out / "compare.xlsx", lang)
        if write_map:
            from .maps import save_map

            m = change_map(self, lang=lang)
            save_map(m, out / "compare_map.html")
            paths["map"] = out / "compare_map.html"
        return paths


def write_xlsx(tables: dict[str, pd.DataFrame], path: Path, lang: str) -> Path:
    """One sheet per table plus a 说明 sheet, headers and formats from the column registry
    (:mod:`geo.schema`), through the project's meeting-ready writer."""
    from .report_xlsx import write_workbook

    frames = {}
    for key, df in tables.items():
        frame = df.copy()
        if lang == "zh" and "change" in frame:
            frame["change"] = frame["change"].map(lambda x: CHANGE_ZH.get(x, x))
        frames[SHEETS[key] if lang == "zh" else SHEETS_EN[key]] = frame
    return write_workbook(frames, Path(path), lang=lang)


# -- shared core ------------------------------------------------------------------------------
def _level(cfg_levels: list[str], main: str) -> str:
    return "15min" if "15min" in cfg_levels else main


def _community_changes(b: pd.DataFrame, a: pd.DataFrame) -> pd.DataFrame:
    """b and a: community_id, county, name, population, lon, lat, walk_distance_m, covered."""
    keys = ["county", "community_id"]
    j = b.merge(
        a[[*keys, "walk_distance_m", "covered"]],
        on=keys,
        how="outer",
        suffixes=("_before", "_after"),
    )
    for col in ("covered_before", "covered_after"):
        j[col] = j[col].astype("boolean").fillna(False).astype(bool)
    j["change"] = np.where(
        ~j["covered_before"] & j["covered_after"],
        "gained",
        np.where(j["covered_before"] & ~j["covered_after"], "lost", ""),
    )
    for col in ("walk_distance_m_before", "walk_distance_m_after"):
        j[col] = pd.to_numeric(j[col], errors="coerce").round(1)
    return j


def _county_table(allc: pd.DataFrame, sites_b: pd.DataFrame, sites_a: pd.DataFrame) -> pd.DataFrame:
    rows = []
    counties = sorted(set(allc["county"].astype(str)))
    for c in counties:
        sub = allc[allc["county"].astype(str) == c]
        pop = sub["population"].to_numpy(float)
        pb = float(pop[sub["covered_before"].to_numpy(bool)].sum())
        pa = float(pop[sub["covered_after"].to_numpy(bool)].sum())
        total = float(pop.sum())

        def count(s: pd.DataFrame, kind: str, c=c) -> int:
            if not len(s):
                return 0
            return int(((s["county"].astype(str) == c) & (s["kind"].astype(str) == kind)).sum())

        rows.append(
            {
                "county": c,
                "population_covered_15min_before": pb,
                "population_covered_15min_after": pa,
                "delta": pa - pb,
                "sites_integrated_before": count(sites_b, "integrated"),
                "sites_integrated_after": count(sites_a, "integrated"),
                "population": total,
                "coverage_share_before": round(pb / total, 4) if total else 0.0,
                "coverage_share_after": round(pa / total, 4) if total else 0.0,
                "communities_gained": int((sub["change"] == "gained").sum()),
                "communities_lost": int((sub["change"] == "lost").sum()),
                "palace_before": count(sites_b, "cultural_palace") > 0,
                "palace_after": count(sites_a, "cultural_palace") > 0,
            }
        )
    return pd.DataFrame(rows, columns=[*COMPARE_COLUMNS, "population", "coverage_share_before",
                                       "coverage_share_after", "communities_gained",
                                       "communities_lost", "palace_before", "palace_after"])  # fmt: skip


def _progress(counties: pd.DataFrame, target: int = INTEGRATED_TARGET) -> pd.DataFrame:
    yn = {True: "有", False: "无"}
    rows = []
    for r in counties.itertuples():
        ib, ia = r.sites_integrated_before, r.sites_integrated_after
        rows.append(
            {
                "county": r.county,
                "integrated_progress": f"{ib} → {ia} / {target}",
                "integrated_trend": _arrow(ib, ia)
                + (" 达标" if ia >= target else f" 缺{target - ia}"),
                "palace_progress": f"{yn[bool(r.palace_before)]} → {yn[bool(r.palace_after)]}",
                "coverage_progress": f"{100 * r.coverage_share_before:.1f}% → {100 * r.coverage_share_after:.1f}%",
                "coverage_trend": _arrow(r.coverage_share_before, r.coverage_share_after)
                + f" {100 * (r.coverage_share_after - r.coverage_share_before):+.1f}",
            }
        )
    return pd.DataFrame(rows)


def _site_key(s: pd.DataFrame, use_id: bool) -> pd.Series:
    if use_id:
        return s["site_id"].astype(str)
    return s["kind"].astype(str) + "\x1f" + s["name"].astype(str)


def site_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Sites added, moved (> MOVED_M) or closed; frames with kind, name, lon, lat (WGS84)."""
    from .network import haversine_m

    use_id = (
        "site_id" in before and "site_id" in after and
        len(set(before["site_id"].astype(str)) & set(after["site_id"].astype(str))) > 0
    )  # fmt: skip
    b, a = before.copy(), after.copy()
    b["_k"], a["_k"] = _site_key(b, use_id), _site_key(a, use_id)
    b["_n"], a["_n"] = b.groupby("_k").cumcount(), a.groupby("_k").cumcount()
    cols = ["_k", "_n", "kind", "name", "lon", "lat", "county"] + (["site_id"] if use_id else [])
    for f in (b, a):
        if "county" not in f:
            f["county"] = ALL
    j = b[cols].merge(
        a[cols], on=["_k", "_n"], how="outer", suffixes=("_before", "_after"), indicator=True
    )
    moved = haversine_m(j["lon_before"], j["lat_before"], j["lon_after"], j["lat_after"])
    change = np.select(
        [j["_merge"] == "right_only", j["_merge"] == "left_only", moved > MOVED_M],
        ["added", "closed", "moved"],
        "",
    )
    out = pd.DataFrame(
        {
            "change": change,
            "county": j["county_after"].fillna(j["county_before"]),
            "site_id": j["site_id_after"].fillna(j["site_id_before"]) if use_id else "",
            "kind": j["kind_after"].fillna(j["kind_before"]),
            "name": j["name_after"].fillna(j["name_before"]),
            "lon_before": j["lon_before"].round(6),
            "lat_before": j["lat_before"].round(6),
            "lon_after": j["lon_after"].round(6),
            "lat_after": j["lat_after"].round(6),
            "moved_m": np.where(change == "moved", np.round(moved, 1), np.nan),
        }
    )
    return out[out["change"] != ""].reset_index(drop=True)


def _finish(allc: pd.DataFrame, sb: pd.DataFrame, sa: pd.DataFrame, meta: dict) -> CompareResult:
    counties = _county_table(allc, sb, sa)
    changed = allc[allc["change"] != ""]
    cols = ["county", "community_id", "name", "population", "change", "walk_distance_m_before",
            "walk_distance_m_after", "lon", "lat"]  # fmt: skip
    changed = changed[[c for c in cols if c in changed]].sort_values(
        ["county", "change", "community_id"]
    )
    return CompareResult(
        counties=counties,
        communities=changed.reset_index(drop=True),
        sites=site_changes(sb, sa),
        progress=_progress(counties),
        all_communities=allc,
        meta=meta,
    )


# -- two site lists ---------------------------------------------------------------------------
def _sites_table(res) -> pd.DataFrame:
    s = res.sites
    g = s.geometry.to_crs(4326)
    return pd.DataFrame(
        {
            "site_id": (s["site_id"] if "site_id" in s else s.index).astype(str).to_numpy(),
            "kind": (s["kind"] if "kind" in s else pd.Series("station", s.index))
            .astype(str)
            .to_numpy(),
            "name": (s["name"] if "name" in s else s.index).astype(str).to_numpy(),
            "lon": g.x.to_numpy(),
            "lat": g.y.to_numpy(),
            "county": (s["county"].astype(str).replace("", ALL) if "county" in s else ALL),
        }
    )


def _comm_table(res, level: str) -> pd.DataFrame:
    c = res.communities
    pts = c.geometry.representative_point()
    county = c["county"].astype(str).replace("", ALL) if "county" in c else ALL
    return pd.DataFrame(
        {
            "county": county,
            "community_id": c["community_id"].astype(str),
            "name": c["name"].astype(str),
            "population": c["population"].astype(float),
            "lon": pts.x.round(6),
            "lat": pts.y.round(6),
            "walk_distance_m": c["walk_distance_m"],
            "covered": c[f"covered_{level}"].astype(bool),
        }
    )


def compare_sites(
    network: Any,
    communities: gpd.GeoDataFrame,
    before: gpd.GeoDataFrame,
    after: gpd.GeoDataFrame,
    *,
    config: Config | None = None,
) -> CompareResult:
    """Coverage with the ``before`` sites against the ``after`` sites, on one network.

    Parameters
    ----------
    network
        A :class:`~geo.network.Network`, osmnx graph or source path (built once).
    communities, before, after
        GeoDataFrames as from :func:`geo.load_communities` / :func:`geo.load_sites`.
    config
        Walk time, speed and levels (the 15-minute level is compared when present).
    """
    from .coverage import as_network, compute_coverage

    cfg = config or Config()
    net = as_network(network, cfg)
    rb = compute_coverage(net, before, communities, config=cfg, redundancy=False)
    ra = compute_coverage(net, after, communities, config=cfg, redundancy=False)
    level = _level(list(cfg.levels), cfg.main_level)
    allc = _community_changes(_comm_table(rb, level), _comm_table(ra, level))
    sb, sa = _sites_table(rb), _sites_table(ra)
    for st in (sb, sa):
        _county_of_sites(st, allc)
    return _finish(allc, sb, sa, {"level": level, "mode": "sites", "network": net})


def _county_of_sites(sites: pd.DataFrame, comms: pd.DataFrame) -> None:
    """Sites without a county (in place): the county of the nearest community, so that the
    per-county site counts are never silently zero when only the communities carry counties."""
    missing = sites["county"].astype(str) == ALL
    counties = comms["county"].astype(str)
    if not missing.any() or (counties == ALL).all() or not len(comms):
        return
    if counties.nunique() == 1:
        sites.loc[missing, "county"] = counties.iloc[0]
        return
    from scipy.spatial import cKDTree

    ok = comms["lon"].notna() & comms["lat"].notna()
    k = np.cos(np.radians(float(comms.loc[ok, "lat"].mean())))
    tree = cKDTree(np.column_stack([comms.loc[ok, "lon"] * k, comms.loc[ok, "lat"]]))
    _, j = tree.query(np.column_stack([sites.loc[missing, "lon"] * k, sites.loc[missing, "lat"]]))
    sites.loc[missing, "county"] = counties[ok].to_numpy()[j]
    logger.info(
        "%d site(s) have no county: each counted in the county of its nearest community",
        int(missing.sum()),
    )


# -- two audits -------------------------------------------------------------------------------
def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        from ._errors import InputError

        raise InputError(
            f"{path.name} is missing in {path.parent}",
            value=str(path),
            fix="pass the output folders of two `servicecircle audit` runs",
        )
    return pd.read_csv(
        path, encoding="utf-8-sig", dtype={"code": str, "community_id": str, "site_id": str}
    )


def _audit_tables(folder: Path, level: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    comm = _read(folder / "communities.csv")
    flag = f"covered_{level}" if f"covered_{level}" in comm else "covered"
    c = pd.DataFrame(
        {
            "county": comm["county"].astype(str),
            "community_id": comm["community_id"].astype(str),
            "name": comm["name"].astype(str),
            "population": comm["population"].astype(float),
            "lon": comm["lon"],
            "lat": comm["lat"],
            "walk_distance_m": comm["walk_distance_m"],
            "covered": comm[flag].astype(str).str.lower().isin(["true", "1"]),
        }
    )
    frames = []
    for p in sorted((folder / "counties").glob("*/sites.csv")):
        s = pd.read_csv(p, encoding="utf-8-sig", dtype={"site_id": str})
        if "in_county" in s:
            s = s[s["in_county"].astype(str).str.lower().isin(["true", "1"])]
        county = s["county"].astype(str) if "county" in s else p.parent.name
        frames.append(
            pd.DataFrame(
                {
                    "site_id": s["site_id"].astype(str) if "site_id" in s else "",
                    "kind": s["kind"].astype(str),
                    "name": s["name"].astype(str),
                    "lon": s["lon"].astype(float),
                    "lat": s["lat"].astype(float),
                    "county": county,
                }
            )
        )
    sites = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["site_id", "kind", "name", "lon", "lat", "county"])
    )
    return c, sites


def compare_audits(
    before_dir: str | Path, after_dir: str | Path, *, level: str = "15min"
) -> CompareResult:
    """Compare two audit output folders (e.g. 2024 against 2025) county by county."""
    cb, sb = _audit_tables(Path(before_dir), level)
    ca, sa = _audit_tables(Path(after_dir), level)
    allc = _community_changes(cb, ca)
    for col in ("name", "population", "lon", "lat"):  # communities only in the later audit
        if col in allc and f"{col}" in ca:
            fill = allc[["county", "community_id"]].merge(
                ca, on=["county", "community_id"], how="left"
            )[col]
            allc[col] = allc[col].fillna(pd.Series(fill.to_numpy(), index=allc.index))
    allc["population"] = allc["population"].fillna(0.0)
    return _finish(allc, sb, sa, {"level": level, "mode": "audits"})


# -- the change map ---------------------------------------------------------------------------
def change_map(cmp: CompareResult, *, lang: str = "zh"):
    """Communities gained (green) and lost (red), sites added, moved (old → new) and closed."""
    import folium
    import shapely

    from .maps import _esc

    c = cmp.all_communities.dropna(subset=["lon", "lat"])
    centre = [float(c["lat"].mean()), float(c["lon"].mean())] if len(c) else [30.55, 114.3]
    m = folium.Map(
        location=centre, zoom_start=13, tiles=None, prefer_canvas=True, control_scale=False
    )
    _metric_scale(m)
    zh = lang == "zh"
    net = cmp.meta.get("network")
    if net is not None and net.n_edges:  # the streets as a light background (offline)
        lines = net.edge_lines(projected=False)
        if lines.size > 60_000:
            lines = lines[np.argsort(-net.length)[:60_000]]
        streets = gpd.GeoDataFrame(
            # simplified edge by edge: one simplify of a huge MultiLineString takes minutes
            geometry=[shapely.multilinestrings(shapely.simplify(lines, 0.00003))],
            crs=4326,
        )
        folium.GeoJson(
            streets,
            name="道路网" if zh else "streets",
            style_function=lambda _f: {"color": "#9e9e9e", "weight": 1, "opacity": 0.7},
            interactive=False,
        ).add_to(m)
    styles = {
        "": ("#bdbdbd", 3, "未变化" if zh else "unchanged"),
        "gained": ("#1a9850", 7, "新覆盖社区" if zh else "newly covered"),
        "lost": ("#d73027", 7, "失去覆盖社区" if zh else "lost coverage"),
    }
    for key, (col, r, name) in styles.items():
        sub = c[c["change"] == key]
        if not len(sub):
            continue
        g = gpd.GeoDataFrame(
            {
                "n": sub["name"].astype(str).map(_esc).to_numpy(),
                "d": [
                    f"{_fmt_m(x)} → {_fmt_m(y)}"
                    for x, y in zip(
                        sub["walk_distance_m_before"], sub["walk_distance_m_after"], strict=True
                    )
                ],
            },
            geometry=shapely.points(sub["lon"].to_numpy(float), sub["lat"].to_numpy(float)),
            crs=4326,
        )
        folium.GeoJson(
            g,
            name=f"{name} ({len(sub)})",
            marker=folium.CircleMarker(
                radius=r, weight=1, color="#fff", fill=True, fill_opacity=0.9
            ),
            style_function=lambda _f, col=col: {"fillColor": col},
            tooltip=folium.GeoJsonTooltip(["n", "d"], labels=False),
        ).add_to(m)
    s = cmp.sites
    colours = {"added": "#1a9850", "moved": "#3182bd", "closed": "#d73027"}
    for kind, col in colours.items():
        sub = s[s["change"] == kind]
        if not len(sub):
            continue
        fg = folium.FeatureGroup(name=f"{CHANGE_ZH[kind] if zh else kind} ({len(sub)})")
        for r in sub.itertuples():
            at = (r.lat_before, r.lon_before) if kind == "closed" else (r.lat_after, r.lon_after)
            if kind == "moved":
                folium.PolyLine(
                    [(r.lat_before, r.lon_before), (r.lat_after, r.lon_after)],
                    color=col,
                    weight=3,
                    dash_array="6 4",
                ).add_to(fg)
            folium.CircleMarker(
                at,
                radius=9,
                color="#000" if kind != "closed" else col,
                weight=3,
                fill=True,
                fill_color=col if kind != "closed" else "#bdbdbd",
                fill_opacity=1.0,
                tooltip=folium.Tooltip(_esc(f"{CHANGE_ZH[kind]} · {r.name}")),
            ).add_to(fg)
        fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    from branca.element import Element

    title = (
        "方案对比：社区 绿=新覆盖、红=失去覆盖、灰=未变化；站点 黑框绿=新增、蓝=移动（虚线自原址）、"
        "红圈=关闭"
        if zh
        else "Before/after: communities green gained, red lost, grey unchanged; sites "
        "black-ringed green added, blue moved (dashed from the old place), red ring closed"
    )
    m.get_root().html.add_child(
        Element(
            "<div style='position:fixed;z-index:9999;top:10px;left:55px;max-width:520px;"
            "background:#fff;"
            "padding:6px 10px;border-radius:6px;box-shadow:0 1px 5px rgba(0,0,0,.4);"
            f"font:14px sans-serif'>{_esc(title)}</div>"
        )
    )
    if len(c):
        m.fit_bounds([[c["lat"].min(), c["lon"].min()], [c["lat"].max(), c["lon"].max()]])
    return m


def _metric_scale(m) -> None:
    """A scale bar in metres and kilometres only (folium's own also shows miles and feet)."""
    from branca.element import MacroElement
    from jinja2 import Template

    scale = MacroElement()
    scale._template = Template(  # a fixed template: no data reaches this script
        "{% macro script(this, kwargs) %}"
        "L.control.scale({metric: true, imperial: false, position: 'bottomleft'})"
        ".addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )
    m.add_child(scale)


def _fmt_m(x) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "—"
    return "—" if not np.isfinite(v) else f"{v:,.0f} m"


def compare(
    before: Any,
    after: Any,
    *,
    network: Any = None,
    communities: gpd.GeoDataFrame | None = None,
    config: Config | None = None,
) -> CompareResult:
    """``geo.compare(...)``: two coverage results, two site lists, or two audit folders.

    * ``compare(res_before, res_after)`` with two :class:`~geo.coverage.CoverageResult` on
      the same communities and network;
    * ``compare(sites_before, sites_after, network=net, communities=comms, config=cfg)``;
    * ``compare("audit_2024/", "audit_2025/")``.
    """
    from .coverage import CoverageResult

    if isinstance(before, CoverageResult) and isinstance(after, CoverageResult):
        return compare_sites(
            before.network,
            communities if communities is not None else before.communities,
            before.sites,
            after.sites,
            config=config or before.config,
        )
    if isinstance(before, (str, Path)) and network is None:
        return compare_audits(before, after)
    if network is None or communities is None:
        from ._errors import InputError

        raise InputError(
            "compare needs the network and the communities for two site lists",
            value=type(before).__name__,
            fix="geo.compare(before, after, network=net, communities=comms), or pass two "
            "coverage results, or two audit folders",
        )
    return compare_sites(network, communities, before, after, config=config)


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> CompareResult:
        return compare(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
