/* servicecircle scenario mode: a what-if editor inside the offline map.
 *
 * The engine (decoders, UTM projection, snapping, bounded multi-source Dijkstra) replicates
 * geo/coverage/_engine.py and _snap.py; it has no DOM dependency and is unit-tested with
 * `node --test tests/js`. The panel part runs only in a page holding the scenario data.
 * Data arrive as JSON; every piece of user text is set with textContent.
 */
(function (root) {
  "use strict";

  // ---------------------------------------------------------------- decoding
  function b64bytes(s) {
    if (typeof atob === "function") {
      const bin = atob(s);
      const out = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
      return out;
    }
    return new Uint8Array(Buffer.from(s, "base64"));
  }

  function varints(bytes, n) {
    // LEB128 varints; values stay below 2^53 (enough for zig-zag deltas of 1e-7 degrees)
    const out = new Float64Array(n);
    let p = 0;
    for (let i = 0; i < n; i++) {
      let v = 0, mul = 1, b;
      do {
        b = bytes[p++];
        v += (b & 0x7f) * mul;
        mul *= 128;
      } while (b & 0x80);
      out[i] = v;
    }
    return out;
  }

  function unzig(v) {
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  function deltaDecode(s, n) {
    const v = varints(b64bytes(s), n);
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += unzig(v[i]);
      v[i] = acc;
    }
    return v;
  }

  function f64(s) {
    const b = b64bytes(s);
    const copy = new Uint8Array(b.length);
    copy.set(b);
    return new Float64Array(copy.buffer);
  }

  function decodeNetwork(d) {
    const E = d.n_edges;
    const u = deltaDecode(d.edge_u, E);
    const dv = varints(b64bytes(d.edge_dv), E);
    const eu = new Int32Array(E), ev = new Int32Array(E);
    for (let e = 0; e < E; e++) {
      eu[e] = u[e];
      ev[e] = u[e] + unzig(dv[e]);
    }
    const counts = varints(b64bytes(d.geom_count), E);
    const off = new Int32Array(E + 1);
    for (let e = 0; e < E; e++) off[e + 1] = off[e] + counts[e];
    const M = off[E];
    const q = d.quantum_deg;
    const lon = deltaDecode(d.geom_lon, M), lat = deltaDecode(d.geom_lat, M);
    for (let i = 0; i < M; i++) {
      lon[i] = lon[i] * q;
      lat[i] = lat[i] * q;
    }
    return {
      nNodes: d.n_nodes, nEdges: E, edgeU: eu, edgeV: ev, length: f64(d.length),
      geomOffsets: off, geomLon: lon, geomLat: lat,
    };
  }

  // ---------------------------------------------------------------- projections
  // WGS84 / UTM forward (Krueger series, n^3 terms: well below 1 mm inside a zone).
  const WGS_A = 6378137.0, WGS_F = 1 / 298.257223563, K0 = 0.9996;
  const N_ = WGS_F / (2 - WGS_F);
  const A_ = (WGS_A / (1 + N_)) * (1 + (N_ * N_) / 4 + (N_ ** 4) / 64);
  const ALPHA = [
    N_ / 2 - (2 / 3) * N_ * N_ + (5 / 16) * N_ ** 3 + (41 / 180) * N_ ** 4,
    (13 / 48) * N_ * N_ - (3 / 5) * N_ ** 3 + (557 / 1440) * N_ ** 4,
    (61 / 240) * N_ ** 3 - (103 / 140) * N_ ** 4,
    (49561 / 161280) * N_ ** 4,
  ];
  const E_ = (2 * Math.sqrt(N_)) / (1 + N_);

  function utmForward(lon, lat, zone, south) {
    const lam0 = ((zone - 1) * 6 - 180 + 3) * Math.PI / 180;
    const phi = lat * Math.PI / 180, lam = lon * Math.PI / 180 - lam0;
    const s = Math.sin(phi);
    const t = Math.sinh(Math.atanh(s) - E_ * Math.atanh(E_ * s));
    const xi = Math.atan2(t, Math.cos(lam));
    const eta = Math.atanh(Math.sin(lam) / Math.sqrt(1 + t * t));
    let x = eta, y = xi;
    for (let j = 1; j <= 4; j++) {
      const a = ALPHA[j - 1];
      x += a * Math.cos(2 * j * xi) * Math.sinh(2 * j * eta);
      y += a * Math.sin(2 * j * xi) * Math.cosh(2 * j * eta);
    }
    return [500000 + K0 * A_ * x, (south ? 10000000 : 0) + K0 * A_ * y];
  }

  // GCJ-02 / BD-09, as geo/crs.py
  const GA = 6378245.0, GEE = 0.00669342162296594323, XPI = (Math.PI * 3000.0) / 180.0;
  function inChina(lon, lat) {
    return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271;
  }
  function wgsToGcj(lon, lat) {
    if (!inChina(lon, lat)) return [lon, lat];
    const x = lon - 105.0, y = lat - 35.0, sx = Math.sqrt(Math.abs(x)), P = Math.PI;
    const common = ((20 * Math.sin(6 * x * P) + 20 * Math.sin(2 * x * P)) * 2) / 3;
    let dlat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + common;
    dlat += ((20 * Math.sin(y * P) + 40 * Math.sin((y / 3) * P)) * 2) / 3;
    dlat += ((160 * Math.sin((y / 12) * P) + 320 * Math.sin((y * P) / 30)) * 2) / 3;
    let dlon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + common;
    dlon += ((20 * Math.sin(x * P) + 40 * Math.sin((x / 3) * P)) * 2) / 3;
    dlon += ((150 * Math.sin((x / 12) * P) + 300 * Math.sin((x / 30) * P)) * 2) / 3;
    const rad = (lat / 180) * P, magic = 1 - GEE * Math.sin(rad) ** 2, sm = Math.sqrt(magic);
    dlat = (dlat * 180) / (((GA * (1 - GEE)) / (magic * sm)) * P);
    dlon = (dlon * 180) / ((GA / sm) * Math.cos(rad) * P);
    return [lon + dlon, lat + dlat];
  }
  function invert(fwd, lon, lat) {
    let w = [lon, lat];
    for (let i = 0; i < 30; i++) {
      const f = fwd(w[0], w[1]);
      const ex = f[0] - lon, ey = f[1] - lat;
      w = [w[0] - ex, w[1] - ey];
      if (Math.max(Math.abs(ex), Math.abs(ey)) < 1e-10) break;
    }
    return w;
  }
  function gcjToWgs(lon, lat) { return invert(wgsToGcj, lon, lat); }
  function gcjToBd(lon, lat) {
    const z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * XPI);
    const th = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * XPI);
    return [z * Math.cos(th) + 0.0065, z * Math.sin(th) + 0.006];
  }
  function wgsToBd(lon, lat) { const g = wgsToGcj(lon, lat); return gcjToBd(g[0], g[1]); }
  function fromWgs(lon, lat, crs) {
    if (crs === "gcj02") return wgsToGcj(lon, lat);
    if (crs === "bd09") return wgsToBd(lon, lat);
    return [lon, lat];
  }

  // ---------------------------------------------------------------- binary heap
  class Heap {
    constructor(cap) {
      this.k = new Float64Array(Math.max(cap, 16));
      this.v = new Int32Array(Math.max(cap, 16));
      this.n = 0;
    }
    push(key, val) {
      if (this.n === this.k.length) {
        const k2 = new Float64Array(this.n * 2), v2 = new Int32Array(this.n * 2);
        k2.set(this.k); v2.set(this.v); this.k = k2; this.v = v2;
      }
      let i = this.n++;
      const K = this.k, V = this.v;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (K[p] <= key) break;
        K[i] = K[p]; V[i] = V[p]; i = p;
      }
      K[i] = key; V[i] = val;
    }
    pop() { // returns the value; key in this.top
      const K = this.k, V = this.v;
      const val = V[0];
      this.top = K[0];
      const n = --this.n;
      if (n > 0) {
        const key = K[n], v = V[n];
        let i = 0;
        for (;;) {
          let c = 2 * i + 1;
          if (c >= n) break;
          if (c + 1 < n && K[c + 1] < K[c]) c++;
          if (K[c] >= key) break;
          K[i] = K[c]; V[i] = V[c]; i = c;
        }
        K[i] = key; V[i] = v;
      }
      return val;
    }
  }

  // ---------------------------------------------------------------- engine
  class Engine {
    /**
     * @param net decoded network (see decodeNetwork) with geomLon/geomLat in WGS84
     * @param opts {utmZone, utmSouth, zeroM, epsM, maxSnapM, cellM}
     */
    constructor(net, opts) {
      this.net = net;
      this.zone = opts.utmZone;
      this.south = !!opts.utmSouth;
      this.zeroM = opts.zeroM ?? 1e-6;
      this.epsM = opts.epsM ?? 1e-6;
      this.maxSnapM = opts.maxSnapM ?? 500;
      this._csr();
      this._segments(opts.cellM ?? 100);
      this.dist = new Float64Array(net.nNodes).fill(Infinity);
      this.touched = new Int32Array(net.nNodes);
      this.nTouched = 0;
      this.heap = new Heap(1024);
    }

    project(lon, lat) { return utmForward(lon, lat, this.zone, this.south); }

    _csr() {
      const { nNodes: N, nEdges: E, edgeU, edgeV, length } = this.net;
      const deg = new Int32Array(N + 1);
      for (let e = 0; e < E; e++) {
        if (edgeU[e] === edgeV[e]) continue; // self-loops never shorten a path
        deg[edgeU[e] + 1]++; deg[edgeV[e] + 1]++;
      }
      for (let i = 0; i < N; i++) deg[i + 1] += deg[i];
      const pos = deg.slice(0, N);
      const idx = new Int32Array(deg[N]), w = new Float64Array(deg[N]), eid = new Int32Array(deg[N]);
      for (let e = 0; e < E; e++) {
        const a = edgeU[e], b = edgeV[e];
        if (a === b) continue;
        const len = Math.max(length[e], this.zeroM); // as scipy's stored-zero rule
        idx[pos[a]] = b; w[pos[a]] = len; eid[pos[a]++] = e;
        idx[pos[b]] = a; w[pos[b]] = len; eid[pos[b]++] = e;
      }
      this.indptr = deg; this.indices = idx; this.weights = w; this.arcEdge = eid;
    }

    _segments(cell) {
      const { nEdges: E, geomOffsets: off, geomLon, geomLat } = this.net;
      const M = off[E];
      const px = new Float64Array(M), py = new Float64Array(M);
      let minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
      for (let i = 0; i < M; i++) {
        const p = this.project(geomLon[i], geomLat[i]);
        px[i] = p[0]; py[i] = p[1];
        if (p[0] < minx) minx = p[0]; if (p[0] > maxx) maxx = p[0];
        if (p[1] < miny) miny = p[1]; if (p[1] > maxy) maxy = p[1];
      }
      const S = M - E;
      const ax = new Float64Array(S), ay = new Float64Array(S), dx = new Float64Array(S),
        dy = new Float64Array(S), slen = new Float64Array(S), sedge = new Int32Array(S),
        salong = new Float64Array(S), plen = new Float64Array(E);
      let s = 0;
      for (let e = 0; e < E; e++) {
        let along = 0;
        for (let i = off[e]; i < off[e + 1] - 1; i++, s++) {
          ax[s] = px[i]; ay[s] = py[i];
          dx[s] = px[i + 1] - px[i]; dy[s] = py[i + 1] - py[i];
          slen[s] = Math.hypot(dx[s], dy[s]);
          sedge[s] = e; salong[s] = along; along += slen[s];
        }
        plen[e] = along;
      }
      Object.assign(this, { px, py, ax, ay, dx, dy, slen, sedge, salong, plen, nSeg: S });
      // uniform grid over segment bounding boxes
      if (!(S > 0)) { minx = miny = 0; maxx = maxy = 1; }
      const span = Math.max(maxx - minx, maxy - miny, 1);
      cell = Math.max(cell, span / 2048);
      const nx = Math.floor((maxx - minx) / cell) + 1, ny = Math.floor((maxy - miny) / cell) + 1;
      const cnt = new Int32Array(nx * ny + 1);
      const cellRange = (k) => {
        const x0 = Math.min(ax[k], ax[k] + dx[k]), x1 = Math.max(ax[k], ax[k] + dx[k]);
        const y0 = Math.min(ay[k], ay[k] + dy[k]), y1 = Math.max(ay[k], ay[k] + dy[k]);
        return [Math.floor((x0 - minx) / cell), Math.floor((x1 - minx) / cell),
          Math.floor((y0 - miny) / cell), Math.floor((y1 - miny) / cell)];
      };
      for (let k = 0; k < S; k++) {
        const r = cellRange(k);
        for (let j = r[2]; j <= r[3]; j++) for (let i = r[0]; i <= r[1]; i++) cnt[j * nx + i + 1]++;
      }
      for (let c = 0; c < nx * ny; c++) cnt[c + 1] += cnt[c];
      const fill = cnt.slice(0, nx * ny), items = new Int32Array(cnt[nx * ny]);
      for (let k = 0; k < S; k++) {
        const r = cellRange(k);
        for (let j = r[2]; j <= r[3]; j++) for (let i = r[0]; i <= r[1]; i++) items[fill[j * nx + i]++] = k;
      }
      Object.assign(this, { gx0: minx, gy0: miny, cell, gnx: nx, gny: ny, gstart: cnt, gitems: items });
      this.segStamp = new Int32Array(S);
      this.stamp = 0;
    }

    /** Nearest edge to a metric point: {edge, t, leg, x, y}, as geo.coverage._snap. */
    snapXY(qx, qy) {
      if (!this.nSeg) return { edge: -1, t: NaN, leg: NaN, x: NaN, y: NaN };
      const { cell, gnx, gny, gstart, gitems, ax, ay, dx, dy } = this;
      const ci = Math.floor((qx - this.gx0) / cell), cj = Math.floor((qy - this.gy0) / cell);
      let best = Infinity, bs = -1, bt = 0;
      const st = ++this.stamp;
      const maxR = Math.max(gnx, gny) + Math.max(Math.abs(ci), Math.abs(cj)) + 1;
      for (let r = 0; r <= maxR; r++) {
        for (let j = cj - r; j <= cj + r; j++) {
          if (j < 0 || j >= gny) continue;
          const edgeRow = j === cj - r || j === cj + r;
          const i0 = edgeRow ? Math.max(ci - r, 0) : ci - r;
          const i1 = edgeRow ? Math.min(ci + r, gnx - 1) : ci + r;
          for (let i = i0; i <= i1; i += edgeRow || r === 0 ? 1 : 2 * r) {
            if (i >= 0 && i < gnx) {
              const c = j * gnx + i;
              for (let p = gstart[c]; p < gstart[c + 1]; p++) {
                const k = gitems[p];
                if (this.segStamp[k] === st) continue;
                this.segStamp[k] = st;
                const l2 = dx[k] * dx[k] + dy[k] * dy[k];
                let t = l2 > 0 ? ((qx - ax[k]) * dx[k] + (qy - ay[k]) * dy[k]) / l2 : 0;
                t = Math.min(Math.max(t, 0), 1);
                const d = Math.hypot(qx - (ax[k] + t * dx[k]), qy - (ay[k] + t * dy[k]));
                if (d < best || (d === best && k < bs)) { best = d; bs = k; bt = t; }
              }
            }
          }
        }
        // cells beyond ring r are at least r * cell away from the query point
        if (best <= r * cell) break;
      }
      const e = this.sedge[bs];
      const along = this.salong[bs] + bt * this.slen[bs];
      const pl = this.plen[e];
      const frac = pl > 0 ? along / pl : 0;
      return {
        edge: e,
        t: Math.min(Math.max(frac, 0), 1) * this.net.length[e],
        leg: best,
        x: ax[bs] + bt * dx[bs],
        y: ay[bs] + bt * dy[bs],
      };
    }

    snap(lon, lat) {
      const p = this.project(lon, lat);
      return this.snapXY(p[0], p[1]);
    }

    /** Multi-source Dijkstra from snapped sources [{edge, t, leg}], bounded by `limit` m.
     * Returns this.dist (Infinity beyond the bound); reuses its buffers between runs. */
    run(sources, limit) {
      const dist = this.dist, touched = this.touched;
      for (let i = 0; i < this.nTouched; i++) dist[touched[i]] = Infinity;
      let nt = 0;
      const heap = this.heap;
      heap.n = 0;
      const bound = limit + this.epsM;
      const { edgeU, edgeV, length } = this.net;
      const z = this.zeroM;
      for (const s of sources) {
        const e = s.edge;
        const cu = Math.max(s.leg + s.t, z), cv = Math.max(s.leg + (length[e] - s.t), z);
        for (const [node, c] of [[edgeU[e], cu], [edgeV[e], cv]]) {
          if (c > bound) continue;
          if (dist[node] === Infinity) touched[nt++] = node;
          if (c < dist[node]) { dist[node] = c; heap.push(c, node); }
        }
      }
      const { indptr, indices, weights } = this;
      while (heap.n > 0) {
        const a = heap.pop();
        const d = heap.top;
        if (d > dist[a]) continue; // stale entry
        for (let p = indptr[a]; p < indptr[a + 1]; p++) {
          const b = indices[p];
          const nd = d + weights[p];
          if (nd < dist[b] && nd <= bound) {
            if (dist[b] === Infinity) touched[nt++] = b;
            dist[b] = nd;
            heap.push(nd, b);
          }
        }
      }
      this.nTouched = nt;
      return dist;
    }

    /** Walk distance of snapped points from the last run's sources (Infinity: beyond). */
    pointDistances(points, sources, out) {
      const { edgeU, edgeV, length } = this.net;
      const dist = this.dist;
      const n = points.edge.length;
      out = out || new Float64Array(n);
      const byEdge = new Map();
      for (const s of sources) {
        const l = byEdge.get(s.edge);
        if (l) l.push(s); else byEdge.set(s.edge, [s]);
      }
      for (let i = 0; i < n; i++) {
        const e = points.edge[i];
        if (e < 0) { out[i] = Infinity; continue; }
        const leg = points.leg[i], t = points.t[i];
        let d = Math.min(dist[edgeU[e]] + (leg + t), dist[edgeV[e]] + (leg + (length[e] - t)));
        const same = byEdge.get(e);
        if (same) {
          const loop = edgeU[e] === edgeV[e];
          for (const s of same) {
            let dt = Math.abs(t - s.t);
            if (loop) dt = Math.min(dt, length[e] - dt);
            const direct = leg + s.leg + dt;
            if (direct < d) d = direct;
          }
        }
        out[i] = d;
      }
      return out;
    }

    /** Pieces [edge, from_m, to_m] reached within `limit` from the last run (one source). */
    reachedPieces(limit, source) {
      const { edgeU, edgeV, length } = this.net;
      const dist = this.dist;
      const seen = new Set();
      const pieces = [];
      for (let i = 0; i < this.nTouched; i++) {
        const a = this.touched[i];
        for (let p = this.indptr[a]; p < this.indptr[a + 1]; p++) {
          const e = this.arcEdge[p];
          if (seen.has(e)) continue;
          seen.add(e);
          const L = length[e];
          const ru = limit - dist[edgeU[e]], rv = limit - dist[edgeV[e]];
          if (ru >= 0 && rv >= 0 && ru + rv >= L) pieces.push([e, 0, L]);
          else {
            if (ru > 0) pieces.push([e, 0, Math.min(ru, L)]);
            if (rv > 0) pieces.push([e, Math.max(L - rv, 0), L]);
          }
        }
      }
      if (source && source.edge >= 0) {
        const b = limit - source.leg;
        if (b > 0) pieces.push([source.edge, Math.max(source.t - b, 0), Math.min(source.t + b, length[source.edge])]);
      }
      return pieces;
    }

    /** [[lon, lat], ...] of edge e between from_m and to_m (metres along, u to v). */
    slice(e, from, to) {
      const off = this.net.geomOffsets, L = this.net.length[e], pl = this.plen[e];
      const s0 = off[e] - e; // first segment of edge e
      const f = pl > 0 && L > 0 ? pl / L : 0;
      const a = from * f, b = to * f;
      const lon = this.net.geomLon, lat = this.net.geomLat;
      const out = [];
      const at = (k, x) => {
        const seg = this.slen[s0 + k];
        const r = seg > 0 ? (x - this.salong[s0 + k]) / seg : 0;
        const i = off[e] + k;
        return [lon[i] + r * (lon[i + 1] - lon[i]), lat[i] + r * (lat[i + 1] - lat[i])];
      };
      const nseg = off[e + 1] - off[e] - 1;
      for (let k = 0; k < nseg; k++) {
        const s = this.salong[s0 + k], en = s + this.slen[s0 + k];
        if (en < a || s > b) continue;
        if (!out.length) out.push(at(k, Math.max(a, s)));
        out.push(at(k, Math.min(b, en)));
      }
      return out;
    }
  }

  const api = { b64bytes, varints, unzig, deltaDecode, f64, decodeNetwork, utmForward,
    wgsToGcj, gcjToWgs, wgsToBd, fromWgs, Heap, Engine };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  root.ServiceCircleEngine = api;
  if (typeof document !== "undefined" && typeof window !== "undefined") {
    document.addEventListener("DOMContentLoaded", function () {
      if (root.ServiceCircleScenario) root.ServiceCircleScenario.start(api);
    });
  }
})(typeof window !== "undefined" ? window : globalThis);

/* ------------------------------------------------------------------ the page's panel */
(function (root) {
  "use strict";
  if (typeof document === "undefined") return;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fmtInt(x) { return Math.round(x).toLocaleString("en-US"); }
  function pct(x) { return (100 * x).toFixed(1) + "%"; }
  function signed(x, nd) {
    const s = nd ? x.toFixed(nd) : Math.round(x).toLocaleString("en-US");
    return (x >= 0 ? "+" : "") + s;
  }

  function csvCell(v) {
    const s = String(v);
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  const CSS = [
    ".sc-scn{position:fixed;z-index:10000;bottom:28px;right:10px;width:340px;max-height:62vh;",
    "overflow:auto;background:rgba(255,255,255,.96);padding:8px 10px;border-radius:6px;",
    "box-shadow:0 1px 5px rgba(0,0,0,.4);font:13px/1.5 'Microsoft YaHei','PingFang SC',",
    "'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif}",
    ".sc-scn h3{margin:0 0 4px;font-size:15px}.sc-scn button{margin:2px 4px 2px 0;font:inherit}",
    ".sc-scn .sc-on{background:#1a9850;color:#fff}.sc-scn ol{margin:4px 0;padding-left:20px}",
    ".sc-sum{border:1px solid #ccc;border-radius:4px;padding:4px 6px;margin:4px 0}",
    ".sc-head{font-weight:bold;font-size:14px}.sc-muted{color:#666;font-size:12px}",
    ".sc-site{width:14px;height:14px;border-radius:50%;border:2px solid #fff;",
    "box-shadow:0 0 2px #000;box-sizing:border-box}",
    ".sc-site.sc-new{border-color:#000}.sc-site.sc-closed{background:#bbb!important;",
    "border-color:#d73027;opacity:.8}",
    ".sc-notice{position:fixed;z-index:10000;top:10px;right:10px;max-width:360px;",
    "background:#fff3cd;border:1px solid #e0b000;padding:6px 8px;border-radius:6px;",
    "font:13px/1.5 sans-serif}",
  ].join("");

  function start(E) {
    const node = document.getElementById("sc-scenario-data");
    if (!node) return;
    const D = JSON.parse(node.textContent);
    const style = el("style");
    style.textContent = CSS;
    document.head.appendChild(style);
    if (D.notice) {
      document.body.appendChild(el("div", "sc-notice", D.notice));
      return;
    }
    const t0 = performance.now();
    const T = D.text;
    const map = root[D.map];
    const marks = {};
    const mark = (k) => { marks[k] = performance.now() - t0; };
    const net = E.decodeNetwork(D.network);
    mark("decode");
    const eng = new E.Engine(net, {
      utmZone: D.utm_zone, utmSouth: D.utm_south, zeroM: D.zero_m, epsM: D.eps_m,
      maxSnapM: D.max_snap_m,
    });
    const levels = D.levels.slice().sort((a, b) => a.limit_m - b.limit_m);
    const bound = levels[levels.length - 1].limit_m;
    const mainLim = D.limit_m;
    const C = D.communities;
    const nC = C.id.length;
    const cPts = {
      edge: Array.from(E.varints(E.b64bytes(C.edge), nC), (v) => v - 1),
      t: E.f64(C.t), leg: E.f64(C.leg),
    };
    const pop = E.f64(C.population);
    const totalPop = pop.reduce((a, b) => a + b, 0);
    const kinds = {};
    for (const k of D.kinds) kinds[k.kind] = k;
    const shown = (lon, lat) => (D.gcj ? E.wgsToGcj(lon, lat) : [lon, lat]);
    const unshown = (lon, lat) => (D.gcj ? E.gcjToWgs(lon, lat) : [lon, lat]);

    // ---- state
    const S = D.sites;
    const sites = [];
    const sl = E.f64(S.leg), st = E.f64(S.t);
    for (let i = 0; i < S.id.length; i++) {
      sites.push({
        id: "S" + i, siteId: S.id[i], name: S.name[i], kind: S.kind[i], lon: S.lon[i],
        lat: S.lat[i], src: [S.src_lon[i], S.src_lat[i]], baseline: true, open: true,
        moved: false, snap: { edge: S.edge[i], t: st[i], leg: sl[i] }, usable: !!S.usable[i],
      });
    }
    const edits = [];
    let seq = 0;
    let lastEdited = null;
    let dist = new Float64Array(nC);

    function openSources() {
      return sites.filter((s) => s.open && s.usable).map((s) => s.snap);
    }
    function compute() {
      const src = openSources();
      eng.run(src, bound);
      eng.pointDistances(cPts, src, dist);
    }
    function stats(d, nOpen) {
      const out = { sites_open: nOpen, levels: {} };
      for (const lv of levels) {
        let n = 0, p = 0;
        for (let i = 0; i < nC; i++) {
          if (!C.off[i] && d[i] <= lv.limit_m + D.eps_m) { n++; p += pop[i]; }
        }
        out.levels[lv.level] = {
          limit_m: lv.limit_m, minutes: lv.minutes, communities_covered: n,
          population_covered: p, population_share: totalPop ? p / totalPop : 0,
        };
      }
      return out;
    }
    const nOpenNow = () => sites.filter((s) => s.open && s.usable).length;
    compute();
    const baseDist = Float64Array.from(dist);
    const base = stats(baseDist, nOpenNow());

    // ---- layers
    const renderer = L.canvas({ padding: 0.3 });
    const classColour = (d, off) => {
      if (off) return D.unreachable_colour;
      const m = d / D.metres_per_minute;
      for (const [lim, col] of D.classes) if (lim === null || m <= lim + 1e-9) return col;
      return D.class_colours[D.class_colours.length - 1];
    };
    mark("engine_and_baseline");
    // Work done after the page is usable, in slices of ~30 ms so that edits stay responsive:
    // the street background (from the embedded network: no second copy in the page) and the
    // baseline walking areas. api.backgroundDone tells when it is finished.
    const background = [];
    map.createPane("sc-streets").style.zIndex = 350;
    {
      const off = net.geomOffsets, parts = new Array(net.nEdges), STEP = 4000;
      for (let e0 = 0; e0 < net.nEdges; e0 += STEP) {
        background.push(() => {
          for (let e = e0; e < Math.min(e0 + STEP, net.nEdges); e++) {
            const line = [];
            for (let i = off[e]; i < off[e + 1]; i++) {
              const q = shown(net.geomLon[i], net.geomLat[i]);
              line.push([q[1], q[0]]);
            }
            parts[e] = line;
          }
        });
      }
      // one canvas of its own: recolouring communities never repaints the streets
      const streetRenderer = L.canvas({ pane: "sc-streets", padding: 0.3 });
      const PER = 20000;
      for (let e0 = 0; e0 < net.nEdges; e0 += PER) {
        background.push(() => {
          L.polyline(parts.slice(e0, e0 + PER), {
            renderer: streetRenderer, color: "#9e9e9e", weight: 1, opacity: 0.7,
            interactive: false, smoothFactor: 1.5,
          }).addTo(map);
        });
      }
    }
    mark("streets");
    const cLayer = L.layerGroup().addTo(map);
    const cMarkers = new Array(nC);
    const cColour = new Array(nC);
    for (let i = 0; i < nC; i++) {
      const p = shown(C.lon[i], C.lat[i]);
      const mk = L.circleMarker([p[1], p[0]], {
        renderer, radius: 5, weight: 1, color: "#fff", fillOpacity: 0.85, fillColor: "#999",
      });
      mk.bindPopup(() => communityPopup(i));
      mk.addTo(cLayer);
      cMarkers[i] = mk;
    }
    function communityPopup(i) {
      const box = el("div");
      box.appendChild(el("div", "sc-head", C.name[i]));
      const d = dist[i];
      const txt = C.off[i] ? T.off_network
        : isFinite(d) ? fmtInt(d) + " m · " + (d / D.metres_per_minute).toFixed(1) + " " + T.minutes
          : T.beyond;
      box.appendChild(el("div", null, txt));
      box.appendChild(el("div", "sc-muted", fmtInt(pop[i])));
      for (const x of C.extra || []) box.appendChild(el("div", "sc-muted", x.label + ": " + x.values[i]));
      return box;
    }
    function recolour() {
      const main = mainLim + D.eps_m;
      for (let i = 0; i < nC; i++) {
        const col = classColour(dist[i], C.off[i]);
        const unc = C.off[i] || !(dist[i] <= main);
        const key = col + (unc ? "u" : "c");
        if (cColour[i] !== key) {
          cColour[i] = key;
          cMarkers[i].setStyle({ fillColor: col, color: unc ? "#000" : "#fff", weight: unc ? 2 : 1 });
        }
      }
    }
    // live walking areas (main level) of every open site: the streets reached, drawn thick;
    // an edit redraws only the edited site's
    const isoLayer = L.layerGroup().addTo(map);
    map.createPane("sc-iso").style.zIndex = 390;
    const isoRenderer = L.canvas({ pane: "sc-iso", padding: 0.3 });
    const isoOf = new Map();
    function drawIso(site) {
      if (!site) return;
      const old = isoOf.get(site.id);
      if (old) { isoLayer.removeLayer(old); isoOf.delete(site.id); }
      if (!site.open || !site.usable || !sites.includes(site)) return;
      eng.run([site.snap], mainLim);
      const parts = [];
      for (const [e, a, b] of eng.reachedPieces(mainLim, site.snap)) {
        const line = eng.slice(e, a, b).map((q) => { const s = shown(q[0], q[1]); return [s[1], s[0]]; });
        if (line.length > 1) parts.push(line);
      }
      const col = (kinds[site.kind] || {}).colour || "#d62728";
      const layer = L.polyline(parts, {
        renderer: isoRenderer, color: col, weight: 5, opacity: 0.35, interactive: false,
        lineCap: "round",
      });
      layer.addTo(isoLayer);
      isoOf.set(site.id, layer);
    }
    const sLayer = L.layerGroup().addTo(map);
    function siteIcon(s) {
      const cls = "sc-site" + (s.baseline ? "" : " sc-new") + (s.open ? "" : " sc-closed");
      return L.divIcon({ className: "", html: "<div class='" + cls + "'></div>", iconSize: [14, 14], iconAnchor: [7, 7] });
    }
    function paintSite(s) {
      const elx = s.marker.getElement();
      if (!elx) return;
      const dot = elx.firstChild;
      if (dot) dot.style.background = (kinds[s.kind] || {}).colour || "#555";
    }
    function drawSite(s) {
      const p = shown(s.lon, s.lat);
      s.marker = L.marker([p[1], p[0]], { icon: siteIcon(s), draggable: true, autoPan: false });
      const tip = el("span", null, s.name + " · " + ((kinds[s.kind] || {}).label || s.kind));
      s.marker.bindTooltip(tip);
      s.marker.on("click", () => (s.open ? api.closeSite(s.id) : api.reopenSite(s.id)));
      s.marker.on("dragend", (ev) => {
        const ll = ev.target.getLatLng();
        const w = unshown(ll.lng, ll.lat);
        api.moveSite(s.id, w[0], w[1]);
      });
      s.marker.on("add", () => paintSite(s));
      s.marker.addTo(sLayer);
      paintSite(s);
    }
    function refreshSite(s) {
      s.marker.setIcon(siteIcon(s));
      const p = shown(s.lon, s.lat);
      s.marker.setLatLng([p[1], p[0]]);
      paintSite(s);
    }
    mark("communities");
    sites.forEach(drawSite);
    mark("sites");
    for (const s of sites) background.push(() => { if (!isoOf.has(s.id)) drawIso(s); });

    // ---- panel
    const panel = el("div", "sc-scn");
    L.DomEvent.disableClickPropagation(panel);
    L.DomEvent.disableScrollPropagation(panel);
    panel.appendChild(el("h3", null, T.panel));
    const kindSel = el("select");
    for (const k of D.kinds) {
      const o = el("option", null, k.label);
      o.value = k.kind;
      kindSel.appendChild(o);
    }
    const row1 = el("div");
    row1.appendChild(el("span", null, T.kind + " "));
    row1.appendChild(kindSel);
    panel.appendChild(row1);
    const bAdd = el("button", null, T.add), bUndo = el("button", null, T.undo);
    const bReset = el("button", null, T.reset), bExport = el("button", null, T.export);
    const row2 = el("div");
    [bAdd, bUndo, bReset, bExport].forEach((b) => row2.appendChild(b));
    panel.appendChild(row2);
    const hint = el("div", "sc-muted");
    panel.appendChild(hint);
    const sumBox = el("div", "sc-sum");
    panel.appendChild(sumBox);
    panel.appendChild(el("div", "sc-muted", T.iso_note));
    panel.appendChild(el("div", "sc-head", T.edits));
    const list = el("ol");
    panel.appendChild(list);
    const timing = el("div", "sc-muted");
    panel.appendChild(timing);
    const crsName = D.input_crs === "other" ? "wgs84" : D.input_crs;
    panel.appendChild(el("div", "sc-muted", T.crs_note + ": " + crsName + " (--crs " + crsName + ")"));
    document.body.appendChild(panel);

    let adding = false;
    function setAdding(on) {
      adding = on;
      bAdd.classList.toggle("sc-on", on);
      hint.textContent = on ? T.adding : "";
      map.getContainer().style.cursor = on ? "crosshair" : "";
    }
    bAdd.addEventListener("click", () => setAdding(!adding));
    bUndo.addEventListener("click", () => api.undo());
    bReset.addEventListener("click", () => { while (edits.length) api.undo(); });
    bExport.addEventListener("click", () => {
      const blob = new Blob(["\ufeff" + api.exportCsv()], { type: "text/csv;charset=utf-8" });
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = "scenario_sites.csv";
      document.body.appendChild(a);
      a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    });
    map.on("click", (ev) => {
      if (!adding) return;
      const w = unshown(ev.latlng.lng, ev.latlng.lat);
      api.addSite(w[0], w[1], kindSel.value);
    });

    function summaryText() {
      const now = stats(dist, nOpenNow());
      const m = now.levels[D.main_level], b = base.levels[D.main_level];
      const dn = now.sites_open - base.sites_open;
      const head = (dn >= 0 ? "+" : "") + dn + " " + T.sites_unit + " → " + T.coverage + " " +
        pct(b.population_share) + " → " + pct(m.population_share) + " (" +
        signed(100 * (m.population_share - b.population_share), 1) + ")";
      const lines = levels.map((lv) => {
        const x = now.levels[lv.level], y = base.levels[lv.level];
        return T.level + " " + lv.minutes.toFixed(0) + " " + T.minutes + ": " + T.communities + " " +
          x.communities_covered + "/" + nC + " (" + signed(x.communities_covered - y.communities_covered, 0) +
          "), " + T.population + " " + fmtInt(x.population_covered) + " (" +
          signed(x.population_covered - y.population_covered, 0) + ")";
      });
      return { head, lines, now };
    }
    function render() {
      const s = summaryText();
      sumBox.textContent = "";
      sumBox.appendChild(el("div", "sc-head", s.head));
      for (const l of s.lines) sumBox.appendChild(el("div", null, l));
      list.textContent = "";
      if (!edits.length) list.appendChild(el("div", "sc-muted", T.none));
      for (const e of edits) {
        const s2 = sites.find((x) => x.id === e.id);
        const lab = (kinds[s2.kind] || {}).label || s2.kind;
        list.appendChild(el("li", null, T[e.type] + " · " + lab + " · " + s2.name));
      }
    }

    function update(site) {
      const a = performance.now();
      compute();
      const b = performance.now();
      recolour();
      const c = performance.now();
      drawIso(site);
      const d = performance.now();
      render();
      api.lastUpdateMs = performance.now() - a;
      api.lastBreakdown = { engine: b - a, recolour: c - b, isochrone: d - c, panel: performance.now() - d };
      timing.textContent = T.ms + " " + api.lastUpdateMs.toFixed(0) + " ms";
    }
    function find(id) {
      const s = sites.find((x) => x.id === id);
      if (!s) throw new Error("no site with id " + id);
      return s;
    }
    function place(s, lon, lat) {
      s.lon = lon; s.lat = lat;
      s.snap = eng.snap(lon, lat);
      s.usable = s.snap.edge >= 0 && s.snap.leg <= D.max_snap_m;
    }

    const api = {
      lastUpdateMs: 0,
      loadMs: 0,
      addSite(lon, lat, kind) {
        kind = kind || kindSel.value;
        const s = {
          id: "N" + ++seq, siteId: "", name: T.new_site + " " + seq, kind, baseline: false,
          open: true, moved: false, src: null,
        };
        place(s, lon, lat);
        sites.push(s);
        drawSite(s);
        edits.push({ type: "added", id: s.id });
        lastEdited = s;
        update(s);
        return s.id;
      },
      moveSite(id, lon, lat) {
        const s = find(id);
        edits.push({ type: "moved", id, prev: [s.lon, s.lat, s.snap, s.usable, s.moved] });
        place(s, lon, lat);
        s.moved = true;
        refreshSite(s);
        lastEdited = s;
        update(s);
        return id;
      },
      closeSite(id) {
        const s = find(id);
        if (!s.open) return id;
        s.open = false;
        edits.push({ type: "closed", id });
        refreshSite(s);
        update(s);
        return id;
      },
      reopenSite(id) {
        const s = find(id);
        if (s.open) return id;
        s.open = true;
        edits.push({ type: "reopened", id });
        refreshSite(s);
        update(s);
        return id;
      },
      undo() {
        const e = edits.pop();
        if (!e) return null;
        const s = find(e.id);
        if (e.type === "added") {
          sLayer.removeLayer(s.marker);
          sites.splice(sites.indexOf(s), 1);
          drawIso(s); // removes its walking area
        } else if (e.type === "moved") {
          [s.lon, s.lat, s.snap, s.usable, s.moved] = e.prev;
          refreshSite(s);
        } else if (e.type === "closed") { s.open = true; refreshSite(s); }
        else if (e.type === "reopened") { s.open = false; refreshSite(s); }
        update(e.type === "added" ? null : s);
        return e.id;
      },
      summary() {
        const s = summaryText();
        return { text: s.head, lines: s.lines, baseline: base, now: s.now, edits: edits.length };
      },
      communities() {
        const out = [];
        const main = mainLim + D.eps_m;
        for (let i = 0; i < nC; i++) {
          const d = dist[i];
          out.push({
            community_id: C.id[i],
            walk_distance_m: isFinite(d) && d <= bound + D.eps_m ? d : null,
            covered: !C.off[i] && d <= main,
          });
        }
        return out;
      },
      sites() {
        return sites.map((s) => ({
          id: s.id, site_id: s.siteId, name: s.name, kind: s.kind, lon: s.lon, lat: s.lat,
          open: s.open, usable: s.usable, baseline: s.baseline, moved: s.moved,
          edge: s.snap.edge, t: s.snap.t, leg: s.snap.leg,
        }));
      },
      edits() { return edits.map((e) => ({ type: e.type, id: e.id })); },
      exportCsv() {
        const crs = D.input_crs === "other" ? "wgs84" : D.input_crs;
        const rows = ["kind,name,lon,lat"];
        for (const s of sites) {
          if (!s.open) continue;
          let xy;
          if (s.baseline && !s.moved && s.src && isFinite(s.src[0])) xy = [String(s.src[0]), String(s.src[1])];
          else { const c = E.fromWgs(s.lon, s.lat, crs); xy = [c[0].toFixed(7), c[1].toFixed(7)]; }
          rows.push([s.kind, s.name, xy[0], xy[1]].map(csvCell).join(","));
        }
        return rows.join("\r\n") + "\r\n";
      },
    };
    recolour();
    render();
    api.layers = { isochrones: isoLayer, communities: cLayer, sites: sLayer };
    api.loadMs = performance.now() - t0;
    api.initMarks = marks;
    api.backgroundDone = false;
    const pump = () => {
      const a = performance.now();
      while (background.length && performance.now() - a < 30) background.shift()();
      if (background.length) setTimeout(pump, 0);
      else { api.backgroundDone = true; mark("background"); }
    };
    setTimeout(pump, 0);
    root.servicecircle = api;
  }

  root.ServiceCircleScenario = { start };
})(typeof window !== "undefined" ? window : globalThis);
