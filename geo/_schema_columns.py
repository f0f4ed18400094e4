"""The registered output columns (see :mod:`geo.schema`). One line per column:

``R(name, dtype, unit, 中文表头, English header, format, description, tables)``

Tables: communities, sites, rejects, proposed_sites, palace_proposal, marginal_gain,
candidates, summary (the audit's county rows and summary.csv), uncovered (audit), streets,
uncovered_main_roads, workplaces. A name with ``{level}`` expands to every walk level.
"""

from __future__ import annotations

from ._schema_registry import TABLES, set_order
from ._schema_registry import register as R

C, S, U = "communities", "sites", "uncovered"
P, PAL, MG, CAND = "proposed_sites", "palace_proposal", "marginal_gain", "candidates"
REJ, SUM, ST, UMR, WP = "rejects", "summary", "streets", "uncovered_main_roads", "workplaces"
CU = (C, U)
PP = (P, PAL)

# fmt: off
# --- identity and location (the order here is each table's column order) -------------------
R("county", "str", "", "区县", "County", "text", "County or district the row lies in", (SUM, MG, *CU, S, *PP, WP))
R("code", "str", "", "区划代码", "Code", "text", "The county's code from the boundaries file", (SUM,))
R("status", "str", "", "状态", "Status", "text", "ok, or error when the county's audit failed", (SUM,))
R("error", "str", "", "错误", "Error", "text", "Why the county's audit failed (empty when ok)", (SUM,))
R("rank", "int", "", "优先级", "Rank", "int", "Order in which the proposal adds most (1 = first)", PP)
R("proposal_id", "str", "", "建议编号", "Proposal id", "text", "Id of the proposed site (P01 ...)", PP)
R("community_id", "str", "", "社区编号", "Community id", "text", "Community id from the input file (or its row)", CU)
R("site_id", "str", "", "站点编号", "Site id", "text", "Site id from the input file (or its row)", (S,))
R("candidate_id", "str", "", "候选点编号", "Candidate id", "text", "Id of the candidate location", (*PP, CAND))
R("workplace_id", "str", "", "工作地编号", "Workplace id", "text", "Workplace id from the input file", (WP,))
R("edge_id", "str", "", "路段编号", "Street segment id", "text", "Id of the street segment in the network", (ST, UMR))
R("source", "str", "", "来源", "Source", "text", "Where the candidate came from: user candidates, a grid, community locations", (CAND, *PP))
R("name", "str", "", "名称", "Name", "text", "Name from the input file (streets: the street name)", (*CU, S, *PP, CAND, WP, ST, UMR))
R("kind", "str", "", "类型", "Kind", "text", "Site kind: 爱心驿站, 会·站·家一体化, 工人文化宫 or 融合共建点", (S, CAND))
R("location_desc", "str", "", "位置描述", "Location", "text", "Where the proposal lies, named from the network's streets", PP)
R("capacity", "float", "people", "容量", "Capacity", "thousands", "Site capacity from the input (seats, m² or staff: one unit for all sites)", (S,))
R("population", "float", "people", "人口", "Population", "thousands", "Residents of the community (summary: of the county)", (*CU, SUM))
R("employees", "float", "people", "职工人数", "Employees", "thousands", "Employees at the workplace (summary: in the county)", (WP, SUM), optional=True)
R("address", "str", "", "地址", "Address", "text", "Address from the input file", (S,))
R("highway", "str", "", "道路等级", "Road class", "text", "OSM highway class or the road file's class", (ST, UMR))
R("lon", "float", "deg", "经度(WGS84)", "Longitude (WGS84)", "coord", "Longitude in WGS84, 6 decimals", (*CU, S, *PP, CAND, WP, UMR))
R("lat", "float", "deg", "纬度(WGS84)", "Latitude (WGS84)", "coord", "Latitude in WGS84, 6 decimals", (*CU, S, *PP, CAND, WP, UMR))
R("lon_gcj02", "float", "deg", "经度(高德/GCJ-02)", "Longitude (Amap/GCJ-02)", "coord", "Longitude in GCJ-02 (Amap, Tencent), when the input used it", (*CU, S, *PP, CAND))
R("lat_gcj02", "float", "deg", "纬度(高德/GCJ-02)", "Latitude (Amap/GCJ-02)", "coord", "Latitude in GCJ-02 (Amap, Tencent), when the input used it", (*CU, S, *PP, CAND))
R("lon_bd09", "float", "deg", "经度(百度/BD-09)", "Longitude (Baidu/BD-09)", "coord", "Longitude in BD-09 (Baidu), when the input used it", (*CU, S, *PP, CAND))
R("lat_bd09", "float", "deg", "纬度(百度/BD-09)", "Latitude (Baidu/BD-09)", "coord", "Latitude in BD-09 (Baidu), when the input used it", (*CU, S, *PP, CAND))
R("row", "int", "", "行号", "Row", "int", "Row number in the input file as a spreadsheet shows it", (S, REJ))

# --- communities: walk and coverage ------------------------------------------------------------
R("nearest_site_id", "str", "", "最近站点编号", "Nearest site id", "text", "Site with the shortest walk", (*CU, WP))
R("nearest_site_name", "str", "", "最近站点", "Nearest site", "text", "Name of the site with the shortest walk", (*CU, WP))
R("nearest_site_kind", "str", "", "最近站点类型", "Nearest site kind", "text", "Kind of the site with the shortest walk", CU)
R("snap_distance_m", "float", "m", "距道路(米)", "Distance to street (m)", "metres", "Straight-line access leg from the point to the nearest street", (*CU, S, WP))
R("walk_distance_m", "float", "m", "步行距离(米)", "Walk distance (m)", "metres", "Walk along streets to the nearest site, access legs included (empty: unreachable)", (*CU, WP))
R("walk_time_min", "float", "min", "步行时间(分钟)", "Walk time (min)", "minutes", "walk_distance_m at the walking speed", (*CU, WP))
R("covered", "bool", "", "是否覆盖", "Covered", "bool", "Within the main walk level of a site", (*CU, WP))
R("off_network", "bool", "", "远离道路", "Far from streets", "bool", "More than max_snap_m from any street: neither covered nor counted as reachable", (*CU, S, WP))
R("sites_within_reach", "int", "count", "可达站点数", "Sites within reach", "int", "Sites within the main walk level (redundancy)", CU)
R("covered_share", "float", "share", "覆盖人口比例", "Share covered", "percent", "Communities: share of the community's people within the walk (area method); marginal gain: population covered share", (*CU, MG))
R("covered_share_{level}", "float", "share", "{level_zh}覆盖人口比例", "Share covered {level_en}", "percent", "Share of the community's people within {level_en} walk (--community-coverage area)", CU, optional=True)
R("e2sfca", "float", "index", "E2SFCA可达性", "E2SFCA accessibility", "ratio", "Enhanced two-step floating catchment score: capacity per person reachable, distance-decayed", CU)
R("e2sfca_index", "float", "index", "可达性指数", "Accessibility index", "decimal", "e2sfca divided by the area's capacity per resident (1 = average)", CU)
R("underserved", "bool", "", "服务不足", "Underserved", "bool", "e2sfca below half the area's capacity per resident (0 when no site with capacity is in reach)", CU)
R("covered_{level}", "bool", "", "{level_zh}覆盖", "Covered within {level_en}", "bool", "Within {level_en} walk of a site", (*CU, WP))
R("covered_{level}", "float", "share", "{level_zh}覆盖长度比例", "Share covered {level_en} (length)", "percent", "Share of the segment's length within {level_en} walk of a station, 0-1 (streets.csv keeps the issue-15 name)", (ST,), per_table=True)

# --- sites ------------------------------------------------------------------------------------
R("communities_served", "int", "count", "服务社区数", "Communities served", "thousands", "Covered communities for which this is the nearest site", (S,))
R("population_served", "float", "people", "服务人口", "Population served", "thousands", "People of the communities this site serves", (S,))
R("communities_within_reach", "int", "count", "可达社区数", "Communities within reach", "thousands", "Communities within the main walk level of this site", (S,))
R("population_within_reach", "float", "people", "可达人口", "Population within reach", "thousands", "People within the main walk level of this site", (S,))
R("weighted_demand", "float", "people", "加权需求", "Weighted demand", "thousands", "Distance-decayed people within reach (E2SFCA step 1)", (S,))
R("supply_demand_ratio", "float", "index", "供需比", "Supply/demand ratio", "ratio", "capacity / weighted_demand", (S,))
R("overloaded", "bool", "", "超负荷", "Overloaded", "bool", "Capacity per weighted person in reach below half the area's capacity per resident (E2SFCA)", (S,))
R("in_county", "bool", "", "在区县内", "In county", "bool", "The site lies inside the county", (S,))

# --- proposals ----------------------------------------------------------------------------------
R("nearest_candidate_id", "str", "", "最近候选点编号", "Nearest candidate id", "text", "The user's candidate nearest to the proposal", PP)
R("nearest_candidate_name", "str", "", "最近候选点", "Nearest candidate", "text", "Name of that candidate", PP)
R("nearest_candidate_m", "float", "m", "距最近候选点(米)", "To nearest candidate (m)", "metres", "Straight-line distance to that candidate", PP)
R("newly_covered_population", "float", "people", "新增覆盖人口", "Newly covered population", "thousands", "People newly within the main walk level thanks to this proposal", PP)
R("newly_covered_communities", "int", "count", "新增覆盖社区", "Newly covered communities", "thousands", "Communities newly within the main walk level", PP)
R("covered_population_after", "float", "people", "累计覆盖人口", "Covered population after", "thousands", "Covered population with this and every higher-ranked proposal", PP)
R("newly_reached_population", "float", "people", "新增可达人口(人)", "Newly reached population", "thousands", "People for whom the palace is the new nearest", PP)
R("weighted_distance_saved", "float", "person_m", "减少的人口加权步行距离(人·米)", "Weighted distance saved (person-m)", "thousands", "Drop in the population-weighted walk to the nearest palace, person-metres", PP)
R("mean_walk_m_after", "float", "m", "建成后人口加权平均步行距离(米)", "Mean walk after (m)", "metres", "Population-weighted mean walk after the proposal", PP)
R("purpose", "str", "", "用途", "Purpose", "text", "Why the site is proposed: coverage, count target or cultural palace", PP)
R("suggested_kind", "str", "", "建议类型", "Suggested kind", "text", "Kind of site suggested", PP)
R("amap_url", "str", "", "高德地图链接", "Amap link", "url", "Opens the point in Amap", PP)
R("baidu_url", "str", "", "百度地图链接", "Baidu link", "url", "Opens the point in Baidu Maps", PP)
R("newly_covered_employees", "float", "people", "新增覆盖职工", "Newly covered employees", "thousands", "Employees newly within the walk", PP)
R("newly_covered_workplaces", "int", "count", "新增覆盖工作地", "Newly covered workplaces", "thousands", "Workplaces newly within the walk", PP)
R("newly_covered_street_km", "float", "km", "新增覆盖道路(公里)", "Newly covered street (km)", "km", "Street length newly within the walk of a station", PP)
R("objective_gain", "float", "", "目标增益", "Objective gain", "decimal", "Gain in the weighted objective (mixed demand)", PP)

# --- marginal gain ----------------------------------------------------------------------------
R("new_sites", "int", "count", "新增站点数", "New sites", "int", "Number of new sites", (MG,))
R("covered_population", "float", "people", "覆盖人口", "Covered population", "thousands", "Population covered with that many new sites", (MG,))
R("added_population", "float", "people", "边际新增人口", "Added population", "thousands", "Population added by the last site", (MG,))
R("method", "str", "", "求解方法", "Method", "text", "Solver that produced the row (milp, greedy ...)", (MG,))

# --- rejects ----------------------------------------------------------------------------------
R("file", "str", "", "文件", "File", "text", "Input file of the rejected row", (REJ,))
R("id", "str", "", "编号", "Id", "text", "Id of the rejected row", (REJ,))
R("column", "str", "", "列", "Column", "text", "Column holding the bad value", (REJ,))
R("value", "str", "", "值", "Value", "text", "The bad value", (REJ,))
R("reason", "str", "", "原因", "Reason", "text", "Why the row was not used", (REJ,))
R("fix", "str", "", "修改建议", "Fix", "text", "How to fix it", (REJ,))
R("reason_code", "str", "", "原因代码", "Reason code", "text", "Machine code of the reason", (REJ,))
R("category", "str", "", "类别", "Category", "text", "error, duplicate or out_of_area", (REJ,))

# --- county summary (audit) ----------------------------------------------------------------------
R("sites", "int", "count", "站点数", "Sites", "thousands", "Sites in the county", (SUM,))
R("sites_station", "int", "count", "爱心驿站", "Stations", "thousands", "Outdoor-worker stations in the county", (SUM,))
R("sites_integrated", "int", "count", "会站家", "Integrated sites", "thousands", "Integrated union sites (会·站·家) in the county", (SUM,))
R("sites_cultural_palace", "int", "count", "工人文化宫", "Cultural palaces", "thousands", "Workers' cultural palaces in the county", (SUM,))
R("sites_partner", "int", "count", "融合共建点", "Partner points", "thousands", "Partner points in the county", (SUM,))
R("integrated_target", "int", "count", "会站家目标", "Integrated-site target", "int", "Required integrated sites per county", (SUM,))
R("integrated_shortfall", "int", "count", "会站家缺口", "Integrated shortfall", "int", "Integrated sites still missing", (SUM,))
R("has_cultural_palace", "bool", "", "是否有工人文化宫", "Has cultural palace", "bool", "The county has a workers' cultural palace", (SUM,))
R("communities", "int", "count", "社区数", "Communities", "thousands", "Communities in the county", (SUM,))
R("communities_covered_{level}", "int", "count", "{level_zh}覆盖社区", "Communities covered {level_en}", "thousands", "Communities within {level_en} walk of a site", (SUM,))
R("population_covered_{level}", "float", "people", "{level_zh}覆盖人口", "Population covered {level_en}", "thousands", "People within {level_en} walk of a site", (SUM,))
R("population_covered_{level}_share", "float", "share", "{level_zh}人口覆盖率", "Population covered {level_en} (share)", "percent", "Share of the population within {level_en} walk", (SUM,))
R("uncovered_communities", "int", "count", "未覆盖社区", "Uncovered communities", "thousands", "Communities beyond the main walk level", (SUM,))
R("off_network_communities", "int", "count", "远离道路社区", "Off-network communities", "thousands", "Communities more than max_snap_m from any street", (SUM,))
R("proposed_sites", "int", "count", "建议新增站点", "Proposed sites", "thousands", "New sites proposed to close the coverage gap", (SUM,))
R("population_covered_after", "float", "people", "新增后覆盖人口", "Population covered after", "thousands", "Covered population with the proposed sites", (SUM,))
R("proposal_status", "str", "", "求解状态", "Solver status", "text", "Status of the gap solver (optimal, time limit, not needed)", (SUM,))
R("integrated_sites_for_count_only", "int", "count", "仅为数量目标需新增会站家", "Integrated sites for the count only", "int", "Integrated sites needed beyond the coverage proposals", (SUM,))
R("new_sites_total", "int", "count", "新增站点合计", "New sites in total", "int", "Coverage proposals or the integrated shortfall, whichever is larger", (SUM,))
R("built_up_share_{level}", "float", "share", "{level_zh}可达建成区比例", "Built-up area within {level_en} (share)", "percent", "Share of the built-up area (street corridor) within {level_en} walk; measured on 10 m rows, within 0.005 of the exact polygon union", (SUM,), optional=True)
R("palace_proposal_lon", "float", "deg", "建议文化宫经度(WGS84)", "Proposed palace longitude (WGS84)", "coord", "Where a cultural palace would serve most (p-median)", (SUM,))
R("palace_proposal_lat", "float", "deg", "建议文化宫纬度(WGS84)", "Proposed palace latitude (WGS84)", "coord", "Where a cultural palace would serve most (p-median)", (SUM,))
R("palace_proposal_error", "str", "", "文化宫建议错误", "Palace proposal error", "text", "Why no palace location could be proposed", (SUM,), optional=True)
R("targets_met", "bool", "", "是否达标", "Targets met", "bool", "Integrated target, a palace and every community covered", (SUM,))
R("map", "str", "", "地图", "Map", "url", "The county's map (relative path)", (SUM,))
R("folder", "str", "", "输出文件夹", "Folder", "text", "The county's folder under counties/", (SUM,), optional=True)
R("input_key", "str", "", "输入指纹", "Input key", "text", "Checksum of the county's inputs (a re-run skips unchanged counties)", (SUM,), optional=True)
R("seconds", "float", "s", "用时(秒)", "Seconds", "seconds", "Time the county's audit took", (SUM,))
R("solver_fallback", "str", "", "求解降级说明", "Solver fallback", "text", "County and reason when a solver answer is not a proven optimum", (SUM,), optional=True)
R("seconds_clip", "float", "s", "用时:裁剪(秒)", "Seconds: clip", "seconds", "Cutting the county's network from the source (in the parent process)", (SUM,), optional=True)
R("seconds_load", "float", "s", "用时:读取路网(秒)", "Seconds: load network", "seconds", "Loading the county's clipped network", (SUM,), optional=True)
R("seconds_coverage", "float", "s", "用时:覆盖(秒)", "Seconds: coverage", "seconds", "Snapping, walk search and demand views", (SUM,), optional=True)
R("seconds_optimise", "float", "s", "用时:选址优化(秒)", "Seconds: optimisation", "seconds", "Gap sites and the cultural-palace location", (SUM,), optional=True)
R("seconds_files", "float", "s", "用时:写表(秒)", "Seconds: tables", "seconds", "Writing the county's CSV tables", (SUM,), optional=True)
R("seconds_isochrones", "float", "s", "用时:等时圈(秒)", "Seconds: isochrones", "seconds", "Walking areas and isochrones.geojson", (SUM,), optional=True)
R("seconds_map", "float", "s", "用时:地图(秒)", "Seconds: map", "seconds", "The county's HTML map and PNG", (SUM,), optional=True)

# --- demand views (issue 15) --------------------------------------------------------------------
R("street_km", "float", "km", "道路总长(公里)", "Street length (km)", "km", "Length of the county's streets", (SUM,), optional=True)
R("main_road_km", "float", "km", "主干道总长(公里)", "Main roads (km)", "km", "Length of main roads", (SUM,), optional=True)
R("street_km_covered_{level}", "float", "km", "{level_zh}覆盖道路(公里)", "Street covered {level_en} (km)", "km", "Street length within {level_en} walk of a station", (SUM,), optional=True)
R("street_km_covered_share_{level}", "float", "share", "{level_zh}道路覆盖率", "Street covered {level_en} (share)", "percent", "Share of street length within {level_en} walk of a station", (SUM,), optional=True)
R("main_road_km_uncovered_{level}", "float", "km", "{level_zh}未覆盖主干道(公里)", "Main roads uncovered {level_en} (km)", "km", "Main-road length beyond {level_en} walk of a station", (SUM,), optional=True)
R("workplaces", "int", "count", "工作地数", "Workplaces", "thousands", "Workplaces in the county", (SUM,), optional=True)
R("employees_covered_{level}", "float", "people", "{level_zh}覆盖职工", "Employees covered {level_en}", "thousands", "Employees within {level_en} walk of a site", (SUM,), optional=True)
R("employees_covered_{level}_share", "float", "share", "{level_zh}职工覆盖率", "Employees covered {level_en} (share)", "percent", "Share of employees within {level_en} walk", (SUM,), optional=True)
R("overloaded_sites", "int", "count", "超负荷站点", "Overloaded sites", "thousands", "Sites whose capacity per weighted person in reach is below half the county's capacity per resident", (SUM,), optional=True)
R("underserved_communities", "int", "count", "服务不足社区", "Underserved communities", "thousands", "Communities whose E2SFCA score is below half the county's capacity per resident", (SUM,), optional=True)
R("underserved_population", "float", "people", "服务不足人口", "Underserved population", "thousands", "People in underserved communities", (SUM,), optional=True)
R("population_covered_in_part", "float", "people", "按面积覆盖人口", "Population covered (area method)", "thousands", "People within the walk counting each polygon's covered share", (SUM,), optional=True)
R("length_m", "float", "m", "长度(米)", "Length (m)", "metres", "Length of the street segment or stretch", (ST, UMR))
R("walk_time_min_to_station", "float", "min", "到最近驿站步行时间(分钟)", "Walk to nearest station (min)", "minutes", "Walk from the segment's farthest point to the nearest station (爱心驿站 or 会站家)", (ST,))
R("main_road", "bool", "", "主干道", "Main road", "bool", "The segment is a main road (OSM motorway/trunk/primary/secondary and links, or along --main-roads)", (ST,))
R("covered_m_{level}", "float", "m", "{level_zh}覆盖长度(米)", "Covered {level_en} (m)", "metres", "Metres of the segment within {level_en} walk of a station", (ST,))
R("length_in_area_m", "float", "m", "区内长度(米)", "Length inside the area (m)", "metres", "Part of the segment inside the county or study boundary", (ST,))
R("employees_covered_share", "float", "share", "职工覆盖率", "Employees covered (share)", "percent", "Share of employees within the main walk level (summary.json)", (SUM,), optional=True)
R("start_m", "float", "m", "起点(米)", "Start (m)", "metres", "Start of the uncovered stretch along the segment", (UMR,))
R("end_m", "float", "m", "终点(米)", "End (m)", "metres", "End of the uncovered stretch along the segment", (UMR,))

# fmt: on

# --- contract orders ---------------------------------------------------------------------------
set_order(C, [
    "community_id", "name", "population", "county", "lon", "lat", "nearest_site_id",
    "nearest_site_name", "nearest_site_kind", "snap_distance_m", "walk_distance_m",
    "walk_time_min", "covered", "off_network", "sites_within_reach", "e2sfca", "e2sfca_index",
    "underserved", "covered_{level}",
])  # fmt: skip
TABLES[U] = list(TABLES[C])
set_order(SUM, [
    "county", "code", "status", "error", "sites", "sites_station", "sites_integrated",
    "sites_cultural_palace", "sites_partner", "integrated_target", "integrated_shortfall",
    "has_cultural_palace", "communities", "communities_covered_{level}", "population",
    "population_covered_{level}", "population_covered_{level}_share", "uncovered_communities",
    "off_network_communities", "proposed_sites", "population_covered_after", "proposal_status",
    "integrated_sites_for_count_only", "new_sites_total", "built_up_share_{level}",
    "palace_proposal_lon", "palace_proposal_lat", "targets_met", "map", "seconds",
])  # fmt: skip
set_order(
    REJ,
    ["file", "row", "id", "name", "column", "value", "reason", "fix", "category", "reason_code"],
)
_PROPOSAL_ORDER = [
    "rank",
    "proposal_id",
    "name",
    "location_desc",
    "county",
    "candidate_id",
    "source",
    "lon",
    "lat",
    "lon_gcj02",
    "lat_gcj02",
    "lon_bd09",
    "lat_bd09",
    "nearest_candidate_id",
    "nearest_candidate_name",
    "nearest_candidate_m",
    "newly_covered_population",
    "newly_covered_communities",
    "covered_population_after",
    "newly_reached_population",
    "weighted_distance_saved",
    "mean_walk_m_after",
    "purpose",
    "suggested_kind",
    "amap_url",
    "baidu_url",
    "newly_covered_employees",
    "newly_covered_workplaces",
    "newly_covered_street_km",
    "objective_gain",
]
set_order(P, _PROPOSAL_ORDER)
set_order(PAL, _PROPOSAL_ORDER)

# --- compare (issue 14): `servicecircle compare` / geo.compare ----------------------------------
# fmt: off
CMP, CMPC, CMPS, CMPP = "compare", "compare_communities", "compare_sites", "compare_progress"
R("population_covered_15min_before", "float", "people", "15分钟覆盖人口(前)", "Population covered 15 min (before)", "thousands", "Population within a 15-minute walk of a site, before", (CMP,))
R("population_covered_15min_after", "float", "people", "15分钟覆盖人口(后)", "Population covered 15 min (after)", "thousands", "Population within a 15-minute walk of a site, after", (CMP,))
R("delta", "float", "people", "覆盖人口变化", "Change in population covered", "thousands", "population_covered_15min_after minus _before", (CMP,))
R("sites_integrated_before", "int", "count", "会站家一体化(前)", "Integrated sites (before)", "int", "Integrated union sites in the county, before", (CMP,))
R("sites_integrated_after", "int", "count", "会站家一体化(后)", "Integrated sites (after)", "int", "Integrated union sites in the county, after", (CMP,))
R("coverage_share_before", "float", "share", "覆盖率(前)", "Coverage share (before)", "percent", "Share of the population covered at 15 minutes, before", (CMP,))
R("coverage_share_after", "float", "share", "覆盖率(后)", "Coverage share (after)", "percent", "Share of the population covered at 15 minutes, after", (CMP,))
R("communities_gained", "int", "count", "新覆盖社区数", "Communities gained", "int", "Communities uncovered before and covered after", (CMP,))
R("communities_lost", "int", "count", "失去覆盖社区数", "Communities lost", "int", "Communities covered before and uncovered after", (CMP,))
R("palace_before", "bool", "", "工人文化宫(前)", "Cultural palace (before)", "bool", "The county had a workers' cultural palace, before", (CMP,))
R("palace_after", "bool", "", "工人文化宫(后)", "Cultural palace (after)", "bool", "The county has a workers' cultural palace, after", (CMP,))
R("change", "str", "", "变化", "Change", "text", "新覆盖/失去覆盖 for communities; 新增/移动/关闭 for sites", (CMPC, CMPS))
R("walk_distance_m_before", "float", "m", "步行距离(米,前)", "Walk distance (m, before)", "metres", "Walk to the nearest site before (empty: unreachable)", (CMPC,))
R("walk_distance_m_after", "float", "m", "步行距离(米,后)", "Walk distance (m, after)", "metres", "Walk to the nearest site after (empty: unreachable)", (CMPC,))
R("lon_before", "float", "deg", "经度(WGS84,前)", "Longitude (WGS84, before)", "coord", "Where the site was (WGS84)", (CMPS,))
R("lat_before", "float", "deg", "纬度(WGS84,前)", "Latitude (WGS84, before)", "coord", "Where the site was (WGS84)", (CMPS,))
R("lon_after", "float", "deg", "经度(WGS84,后)", "Longitude (WGS84, after)", "coord", "Where the site is (WGS84)", (CMPS,))
R("lat_after", "float", "deg", "纬度(WGS84,后)", "Latitude (WGS84, after)", "coord", "Where the site is (WGS84)", (CMPS,))
R("moved_m", "float", "m", "移动距离(米)", "Moved (m)", "metres", "Straight-line distance a moved site moved", (CMPS,))
R("integrated_progress", "str", "", "会站家进展(目标10)", "Integrated sites toward 10", "text", "Integrated sites before → after / target", (CMPP,))
R("integrated_trend", "str", "", "会站家趋势", "Integrated trend", "text", "↑ ↓ → and the shortfall to the target", (CMPP,))
R("palace_progress", "str", "", "工人文化宫", "Cultural palace", "text", "Has a cultural palace, before → after", (CMPP,))
R("coverage_progress", "str", "", "覆盖率", "Coverage", "text", "Coverage share before → after", (CMPP,))
R("coverage_trend", "str", "", "覆盖率趋势", "Coverage trend", "text", "↑ ↓ → and the change in percentage points", (CMPP,))
# fmt: on
