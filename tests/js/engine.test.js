// Unit tests of the scenario engine (geo/maps/scenario.js) on generated edge cases.
// Run: node --test tests/js   (tests/test_scenario_js.py runs it under pytest).
// Cases come from tests/js/cases.json when present (written by the pytest wrapper with the
// Python engine's answers); the hand-made cases below need nothing else.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const E = require("../../geo/maps/scenario.js");

// A network in local metres near Wuhan, geometry straight lines between nodes.
const LON0 = 114.3, LAT0 = 30.55, MLAT = 111195.0;
function lonlat(x, y) {
  return [LON0 + x / (MLAT * Math.cos((LAT0 * Math.PI) / 180)), LAT0 + y / MLAT];
}
function makeNet(xy, edges, lengths) {
  const E_ = edges.length;
  const off = new Int32Array(E_ + 1);
  const lon = [], lat = [];
  edges.forEach(([u, v], e) => {
    for (const n of [u, v]) { const p = lonlat(...xy[n]); lon.push(p[0]); lat.push(p[1]); }
    off[e + 1] = off[e] + 2;
  });
  return {
    nNodes: xy.length, nEdges: E_,
    edgeU: Int32Array.from(edges.map((e) => e[0])), edgeV: Int32Array.from(edges.map((e) => e[1])),
    length: Float64Array.from(lengths || edges.map(([u, v]) => Math.hypot(xy[u][0] - xy[v][0], xy[u][1] - xy[v][1]))),
    geomOffsets: off, geomLon: Float64Array.from(lon), geomLat: Float64Array.from(lat),
  };
}
const OPTS = { utmZone: 50, utmSouth: false, zeroM: 1e-6, epsM: 1e-6, maxSnapM: 500 };
const pts = (list) => ({ edge: list.map((p) => p.edge), t: list.map((p) => p.t), leg: list.map((p) => p.leg) });

test("varint / zig-zag / delta round trip", () => {
  const vals = [0, 1, -1, 63, -64, 127, 128, 300, -300, 2 ** 31, -(2 ** 31), 2 ** 40];
  const zz = vals.map((v) => (v >= 0 ? 2 * v : -2 * v - 1));
  const bytes = [];
  for (let v of zz) { do { let b = v % 128; v = Math.floor(v / 128); if (v) b |= 128; bytes.push(b); } while (v); }
  const dec = E.varints(Uint8Array.from(bytes), vals.length);
  assert.deepEqual(Array.from(dec, E.unzig), vals);
});

test("UTM forward matches known pyproj values", () => {
  // pyproj EPSG:32650 of (114.3, 30.55) and (113.5, 31.2), computed offline
  const cases = JSON.parse(fs.readFileSync(path.join(__dirname, "utm_cases.json"), "utf8"));
  for (const c of cases) {
    const [x, y] = E.utmForward(c.lon, c.lat, c.zone, c.south);
    assert.ok(Math.abs(x - c.x) < 1e-3 && Math.abs(y - c.y) < 1e-3, JSON.stringify([c, x, y]));
  }
});

test("binary heap pops in order", () => {
  const h = new E.Heap(2);
  const keys = [5, 3, 9, 1, 1, 7, 0, 4, 8, 2];
  keys.forEach((k, i) => h.push(k, i));
  const out = [];
  while (h.n) { h.pop(); out.push(h.top); }
  assert.deepEqual(out, keys.slice().sort((a, b) => a - b));
});

test("parallel edges: the shorter one counts", () => {
  const net = makeNet([[0, 0], [300, 0]], [[0, 1], [0, 1], [1, 0]], [500, 300, 900]);
  const eng = new E.Engine(net, OPTS);
  const site = { edge: 1, t: 0, leg: 0 }; // at node 0
  eng.run([site], 1000);
  assert.equal(eng.dist[1], 300);
});

test("zero-length edges pass with 1 micrometre, as scipy stores them", () => {
  const net = makeNet([[0, 0], [0, 0], [100, 0]], [[0, 1], [1, 2]], [0, 100]);
  const eng = new E.Engine(net, OPTS);
  eng.run([{ edge: 0, t: 0, leg: 0 }], 1000);
  assert.equal(eng.dist[0], 1e-6); // virtual arcs have at least 1e-6 too
  assert.equal(eng.dist[1], 1e-6); // leg + length - t = 0 -> 1e-6
  assert.equal(eng.dist[2], 1e-6 + 100);
});

test("disconnected pieces stay unreachable; same-edge sites walk straight along", () => {
  const net = makeNet([[0, 0], [100, 0], [5000, 0], [5100, 0]], [[0, 1], [2, 3]]);
  const eng = new E.Engine(net, OPTS);
  const sites = [{ edge: 0, t: 10, leg: 5 }];
  eng.run(sites, 1000);
  const d = eng.pointDistances(pts([{ edge: 0, t: 60, leg: 7 }, { edge: 1, t: 50, leg: 0 }]), sites);
  assert.ok(Math.abs(d[0] - (5 + 7 + 50)) < 1e-9);
  assert.equal(d[1], Infinity);
});

test("a community exactly at the limit is reached (bound includes eps)", () => {
  const net = makeNet([[0, 0], [600, 0], [1200, 0]], [[0, 1], [1, 2]]);
  const eng = new E.Engine(net, OPTS);
  const sites = [{ edge: 0, t: 0, leg: 0 }];
  eng.run(sites, 1000);
  const d = eng.pointDistances(pts([{ edge: 1, t: 400, leg: 0 }, { edge: 1, t: 400.001, leg: 0 }]), sites);
  const L = 600 + 400; // node 0 -> node 1 -> 400 m along
  assert.ok(Math.abs(d[0] - L) < 1e-9 && d[0] <= 1000 + 1e-6);
  assert.ok(d[1] > 1000 + 1e-6);
});

test("self-loop: same-edge walk may go either way round", () => {
  const net = makeNet([[0, 0], [100, 0]], [[0, 0], [0, 1]], [400, 100]);
  const eng = new E.Engine(net, OPTS);
  const sites = [{ edge: 0, t: 20, leg: 0 }];
  eng.run(sites, 1000);
  const d = eng.pointDistances(pts([{ edge: 0, t: 380, leg: 0 }]), sites);
  assert.ok(Math.abs(d[0] - 40) < 1e-9);
});

test("snapping finds the nearest segment exactly (brute force) and its offset", () => {
  const xy = [], edges = [];
  let s = 1;
  const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  for (let i = 0; i < 60; i++) xy.push([rnd() * 3000, rnd() * 3000]);
  for (let i = 0; i < 90; i++) edges.push([Math.floor(rnd() * 60), Math.floor(rnd() * 60)]);
  const net = makeNet(xy, edges);
  const eng = new E.Engine(net, { ...OPTS, cellM: 37 });
  for (let q = 0; q < 300; q++) {
    const [x, y] = eng.project(...lonlat(rnd() * 4000 - 500, rnd() * 4000 - 500));
    const sn = eng.snapXY(x, y);
    let best = Infinity;
    for (let k = 0; k < eng.nSeg; k++) {
      const l2 = eng.dx[k] ** 2 + eng.dy[k] ** 2;
      let t = l2 > 0 ? ((x - eng.ax[k]) * eng.dx[k] + (y - eng.ay[k]) * eng.dy[k]) / l2 : 0;
      t = Math.min(Math.max(t, 0), 1);
      best = Math.min(best, Math.hypot(x - eng.ax[k] - t * eng.dx[k], y - eng.ay[k] - t * eng.dy[k]));
    }
    assert.ok(Math.abs(sn.leg - best) < 1e-9, `${sn.leg} vs ${best}`);
    assert.ok(sn.t >= 0 && sn.t <= net.length[sn.edge]);
  }
});

// Cases generated in Python with the Python engine's answers (see tests/test_scenario_js.py).
// Tolerance 2 cm: the page quantises coordinates to 1e-7 degree (about 1 cm).
const casesFile = process.env.SC_CASES || path.join(__dirname, "cases.json");
test("generated networks: same distances as the Python engine", { skip: !fs.existsSync(casesFile) }, () => {
  const cases = JSON.parse(fs.readFileSync(casesFile, "utf8"));
  assert.ok(cases.length > 0);
  for (const c of cases) {
    const net = E.decodeNetwork(c.network);
    const eng = new E.Engine(net, { utmZone: c.utm_zone, utmSouth: false, zeroM: 1e-6, epsM: 1e-6, maxSnapM: c.max_snap_m });
    // 1) the walk model on the Python snaps: equal to float noise, the limit included
    const ss = c.site_snap, sites = ss.edge.map((e, i) => ({ edge: e, t: ss.t[i], leg: ss.leg[i] }));
    eng.run(sites, c.limit_m);
    const d = eng.pointDistances(c.community_snap, sites);
    c.expected.forEach((want, i) => {
      const got = d[i] <= c.limit_m + 1e-6 ? d[i] : null;
      const w = want !== null && want <= c.limit_m + 1e-6 ? want : null;
      if (w === null) assert.equal(got, null, `${c.name} #${i}: ${got} vs beyond`);
      else assert.ok(got !== null && Math.abs(got - w) < 1e-6, `${c.name} #${i}: ${got} vs ${w}`);
    });
    // 2) the page's own snapping of the raw coordinates: within the 1e-7 degree quantum
    const own = c.sites.map(([lon, lat]) => eng.snap(lon, lat)).filter((s) => s.leg <= c.max_snap_m);
    assert.equal(own.length, sites.length);
    const comm = c.communities.map(([lon, lat]) => eng.snap(lon, lat));
    comm.forEach((p, i) => {
      assert.ok(Math.abs(p.leg - c.community_snap.leg[i]) < 0.02, `${c.name} leg #${i}`);
    });
    eng.run(own, c.limit_m + 1);
    const d2 = eng.pointDistances(pts(comm), own);
    c.expected.forEach((want, i) => {
      if (want !== null && want <= c.limit_m) assert.ok(Math.abs(d2[i] - want) < 0.05, `${c.name} own #${i}: ${d2[i]} vs ${want}`);
    });
  }
});
