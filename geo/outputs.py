"""Write a coverage run's files: per-community CSV, rejects, JSON summary, isochrones, map."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .coverage import CoverageResult
from .io import REJECT_COLUMNS, atomic_path, write_csv, write_json

logger = logging.getLogger(__name__)

COMMUNITY_COLUMNS = [
    "community_id", "name", "population", "county", "lon", "lat", "nearest_site_id",
    "nearest_site_name", "nearest_site_kind", "snap_distance_m", "walk_distance_m",
    "walk_time_min", "covered", "off_network", "sites_within_reach",
]  # fmt: skip


def community_table(res: CoverageResult) -> pd.DataFrame:
    """The per-community table, contract columns first, then every level's flag."""
    c = res.communities.copy()
    if "lon" not in c or c["lon"].isna().all():
        pts = c.geometry.representative_point()
        c["lon"], c["lat"] = pts.x, pts.y
    cols = [k for k in COMMUNITY_COLUMNS if k in c.columns]
    levels = [k for k in c.columns if k.startswith("covered_")]
    out = pd.DataFrame(c[cols + levels])
    for k in ("snap_distance_m", "walk_distance_m"):
        out[k] = out[k].round(1)
    out["walk_time_min"] = out["walk_time_min"].round(2)
    return out


def off_network_rejects(res: CoverageResult, sites_file: object = "") -> pd.DataFrame:
    """Sites that cannot serve anyone because no street is within ``max_snap_m``."""
    s = res.sites[res.sites["off_network"].to_numpy(bool)]
    if not len(s):
        return pd.DataFrame(columns=REJECT_COLUMNS)
    d = s["snap_distance_m"]
    return pd.DataFrame(
        {
            "file": str(sites_file),
            "row": s["row"] if "row" in s else "",
            "id": s["site_id"] if "site_id" in s else s.index.astype(str),
            "name": s["name"] if "name" in s else "",
            "column": "lon/lat",
            "value": [f"{x:.0f} m" if pd.notna(x) else "no geometry" for x in d],
            "reason": f"more than {res.config.max_snap_m:.0f} m from any street (serves no one)",
            "fix": "check the coordinates and their crs (--crs), use a network that covers this "
            "area, or raise --max-snap-m",
        }
    )[REJECT_COLUMNS]


def site_table(res: CoverageResult) -> pd.DataFrame:
    s = pd.DataFrame(res.sites.drop(columns="geometry"))
    s["snap_distance_m"] = s["snap_distance_m"].round(1)
    return s


def write_coverage_outputs(
    res: CoverageResult,
    out: str | Path,
    *,
    rejects: pd.DataFrame | None = None,
    inputs: dict[str, Any] | None = None,
    map_kwargs: dict[str, Any] | None = None,
    write_map: bool = True,
    extra_summary: dict[str, Any] | None = None,
    proposal=None,
) -> dict[str, Path]:
    """Write ``communities.csv``, ``sites.csv``, ``rejects.csv``, ``isochrones.geojson``,
    ``summary.json`` and ``map.html`` under ``out`` (each atomically).

    With a ``proposal`` (from :func:`geo.optimize.propose_sites`) also
    ``proposed_sites.csv``, ``marginal_gain.csv``, ``marginal_gain.png`` and
    ``candidates.csv``, and the proposals go on the map and into ``summary.json``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rejects = pd.concat(
        [
            rejects if rejects is not None else pd.DataFrame(columns=REJECT_COLUMNS),
            off_network_rejects(res, (inputs or {}).get("sites", "")),
        ],
        ignore_index=True,
    )
    paths = {
        "communities": write_csv(community_table(res), out / "communities.csv"),
        "sites": write_csv(site_table(res), out / "sites.csv"),
        "rejects": write_csv(rejects, out / "rejects.csv"),
    }
    from .maps import MAX_SITE_ISOCHRONES

    iso = res.isochrones(by="site" if len(res.sites) <= MAX_SITE_ISOCHRONES else "kind")
    if len(iso):
        with atomic_path(out / "isochrones.geojson") as tmp:
            gpd.GeoDataFrame(iso).to_file(tmp, driver="GeoJSON")
        paths["isochrones"] = out / "isochrones.geojson"
    summary = dict(res.summary)
    summary["rejected_rows"] = len(rejects)
    if len(rejects):
        summary["rejects_by_reason"] = rejects["reason"].value_counts().to_dict()
    summary["config"] = {
        k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(res.config).items()
    }
    if inputs:
        summary["inputs"] = {k: str(v) for k, v in inputs.items()}
    if extra_summary:
        summary.update(extra_summary)
    if proposal is not None:
        paths["proposed_sites"] = write_csv(proposal_table(proposal), out / "proposed_sites.csv")
        paths["marginal_gain"] = write_csv(proposal.curve, out / "marginal_gain.csv")
        paths["candidates"] = write_csv(
            pd.DataFrame(proposal.candidates.drop(columns="geometry")), out / "candidates.csv"
        )
        if len(proposal.curve):
            lang = (map_kwargs or {}).get("lang", "zh")
            paths["marginal_gain_plot"] = plot_marginal_gain(
                proposal.curve, out / "marginal_gain.png", lang
            )
        summary["proposal"] = proposal.summary
    if write_map:
        from .maps import make_map, save_map

        kw = dict(map_kwargs or {})
        offline = kw.pop("offline", True)
        if proposal is not None:
            kw["proposals"] = proposal.sites
        m = make_map(res, isochrones=iso, offline=offline, **kw)
        info = save_map(m, out / "map.html", offline=offline)
        paths["map"] = out / "map.html"
        summary["map"] = {"file": "map.html", "size_bytes": info["size_bytes"], "offline": offline}
        from .maps import save_png

        png = save_png(
            res,
            out / "map.png",
            lang=kw.get("lang", "zh"),
            proposals=None if proposal is None else proposal.sites,
            boundaries=kw.get("boundaries"),
            # per-kind polygons are already drawn for large runs: reuse them, don't rebuild
            isochrones=None if "site_id" in iso else iso[iso["level"] == res.config.main_level],
            tiles=not offline,
        )
        paths["map_png"] = out / "map.png"
        summary["map"]["png"] = {"file": "map.png", "tiles": png["tiles"]}
    paths["summary"] = write_json(summary, out / "summary.json")
    return paths


PROPOSAL_COLUMNS = [
    "rank",
    "candidate_id",
    "source",
    "name",
    "lon",
    "lat",
    "newly_covered_population",
    "newly_covered_communities",
    "covered_population_after",
    "weighted_distance_saved",
    "purpose",
    "suggested_kind",
]


def proposal_table(prop) -> pd.DataFrame:
    cols = [c for c in PROPOSAL_COLUMNS if c in prop.sites.columns]
    return pd.DataFrame(prop.sites[cols])


_CJK_FILES = (
    "wqy-microhei.ttc",
    "wqy-zenhei.ttc",
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Regular.otf",
    "DroidSansFallbackFull.ttf",
    "msyh.ttc",
    "simhei.ttf",
)


def _cjk_font() -> str | None:
    """Name of an installed CJK font, registering known font files matplotlib has not cached."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for path in font_manager.findSystemFonts():
        if Path(path).name in _CJK_FILES and not any(
            k in n for n in names for k in ("WenQuanYi", "Noto Sans CJK", "Droid Sans")
        ):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError):
                continue
    for f in font_manager.fontManager.ttflist:
        if any(
            k in f.name
            for k in (
                "WenQuanYi",
                "Noto Sans CJK",
                "Noto Serif CJK",
                "Source Han",
                "SimHei",
                "Microsoft YaHei",
                "PingFang",
            )
        ):
            return f.name
    return None


def plot_marginal_gain(curve: pd.DataFrame, path: str | Path, lang: str = "zh") -> Path:
    """Covered population against new sites, as a PNG (Chinese labels when a CJK font exists)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = _cjk_font()
    zh = lang == "zh" and font is not None
    if lang == "zh" and font is None:
        logger.info("no CJK font found (install fonts-wqy-microhei); plot labels in English")
    rc = {"font.sans-serif": [font, "DejaVu Sans"]} if font else {}
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
        x = curve["new_sites"].to_numpy()
        y = 100 * curve["covered_share"].to_numpy()
        ax.plot(x, y, marker="o", color="#3182bd")
        for xi, yi in zip(x, y, strict=True):
            ax.annotate(
                f"{yi:.1f}%",
                (xi, yi),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=8,
            )
        ax.set_xlabel("新增站点数" if zh else "New sites")
        ax.set_ylabel("覆盖人口比例 (%)" if zh else "Population covered (%)")
        ax.set_title("边际收益曲线" if zh else "Marginal gain of new sites")
        ax.set_xticks(x)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
        plt.close(fig)
    return Path(path)
