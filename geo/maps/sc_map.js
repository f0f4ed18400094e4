/* servicecircle map renderer.
 *
 * Every piece of data arrives as JSON in the page's application/json element "sc-data" and is
 * put on the page with textContent or DOM nodes only: no data string is ever parsed as HTML or
 * JavaScript. The only innerHTML Leaflet itself uses (layer-control names) gets escaped text.
 *
 * Hook for other modules (e.g. the scenario editor): after drawing, window.scMap holds
 * {map, data, layers} and a 'sc:ready' event is dispatched on document with the same object.
 */
(function () {
  "use strict";

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function table(rows) {
    var t = el("table", "sc-pop");
    rows.forEach(function (r) {
      var tr = el("tr");
      tr.appendChild(el("th", null, r[0]));
      var td = el("td");
      if (r[2]) {
        // a link: href built by us from numbers (checked again here), text from data
        var a = el("a", null, r[1]);
        var href = String(r[2]);
        if (/^https:\/\/(uri\.)?amap\.com\//.test(href)) {
          a.href = href;
          a.target = "_blank";
          a.rel = "noopener noreferrer";
        }
        td.appendChild(a);
      } else {
        td.textContent = r[1] === null || r[1] === undefined ? "" : String(r[1]);
      }
      tr.appendChild(td);
      t.appendChild(tr);
    });
    return t;
  }

  function popupRows(layer, props) {
    var rows = [];
    (layer.fields || []).forEach(function (f) {
      var v = props[f[0]];
      if (v === undefined || v === null || v === "") return;
      rows.push([f[1], v, f[2] ? props[f[2]] : null]);
    });
    return rows;
  }

  function styleOf(layer, props) {
    var s = {};
    var base = layer.style || {};
    for (var k in base) s[k] = base[k];
    if (props._c) { s.fillColor = props._c; if (!base.keepColor) s.color = props._c; }
    if (props._e) s.color = props._e;
    if (props._w) s.weight = props._w;
    if (props._r) s.radius = props._r;
    if (layer.pane) s.pane = layer.pane;
    return s;
  }

  function textWidth(t) {
    var w = 0;
    for (var i = 0; i < t.length; i++) w += t.charCodeAt(i) > 0x2e80 ? 12 : 6.5;
    return w + 6;
  }

  function labelLayer(map, layer) {
    // labels in priority order (places and water first, then streets, longest first); at each
    // zoom, those whose zoom has come are placed greedily and any that would overlap an
    // already placed label is left out, so names never pile up
    var group = L.layerGroup();
    var marks = [];
    layer.data.features.forEach(function (f) {
      var p = f.properties, c = f.geometry.coordinates;
      var kind = p._k || "street";
      var div = el("div", "sc-lab sc-lab-" + kind, p.text);
      var icon = L.divIcon({html: div, className: "sc-lab-wrap", iconSize: null});
      var mk = L.marker([c[1], c[0]], {icon: icon, interactive: false, keyboard: false});
      var big = kind === "district" ? 1.3 : kind === "place" ? 1.1 : 1;
      marks.push({mk: mk, z: p._z || 0, ll: L.latLng(c[1], c[0]),
                  w: textWidth(String(p.text)) * big, h: 16 * big,
                  pri: kind === "street" ? 1 : 0});
    });
    marks.sort(function (a, b) { return a.pri - b.pri; });  // stable: keeps street order
    function refresh() {
      var z = map.getZoom(), placed = [], bounds = map.getBounds().pad(0.2);
      marks.forEach(function (m) {
        var show = z >= m.z && bounds.contains(m.ll);
        if (show) {
          var pt = map.latLngToContainerPoint(m.ll);
          var box = [pt.x - m.w / 2, pt.y - m.h / 2, pt.x + m.w / 2, pt.y + m.h / 2];
          show = !placed.some(function (q) {
            return box[0] < q[2] && box[2] > q[0] && box[1] < q[3] && box[3] > q[1];
          });
          if (show) placed.push(box);
        }
        if (show) { if (!group.hasLayer(m.mk)) group.addLayer(m.mk); }
        else if (group.hasLayer(m.mk)) group.removeLayer(m.mk);
      });
    }
    map.on("zoomend moveend", refresh);
    group.on("add", refresh);
    return group;
  }

  function proposalLayer(map, layer) {
    var group = L.featureGroup();
    var items = [];
    layer.data.features.forEach(function (f) {
      var p = f.properties, c = f.geometry.coordinates;
      var ll = L.latLng(c[1], c[0]);
      var badge = el("div", p._palace ? "sc-prop sc-palace" : "sc-prop",
                     p._palace ? "宫" : p._label);
      if (p._palace && layer.palaceText) badge.textContent = layer.palaceText;
      var mk = L.marker(ll, {icon: L.divIcon({html: badge, className: "sc-prop-wrap",
                                              iconSize: [24, 24], iconAnchor: [12, 12]}),
                             riseOnHover: true});
      var dot = L.circleMarker(ll, {radius: 3, color: "#000", weight: 1, fillColor: "#ffeb3b",
                                    fillOpacity: 1, interactive: false});
      var rows = popupRows(layer, p);
      mk.bindPopup(function () { return table(rows); }, {maxWidth: 340});
      mk.bindTooltip(el("span", null, p._tip || ""));
      group.addLayer(dot);
      group.addLayer(mk);
      items.push({mk: mk, ll: ll, badge: badge});
    });
    // numbered badges never cover each other: shift overlapping ones sideways (with the true
    // location still marked by the small dot)
    function spread() {
      var placed = [];
      items.forEach(function (it) {
        var pt = map.latLngToLayerPoint(it.ll);
        var dx = 0, dy = 0, tries = 0;
        while (tries < 12 && placed.some(function (q) {
          return Math.abs(q.x - (pt.x + dx)) < 24 && Math.abs(q.y - (pt.y + dy)) < 24;
        })) {
          tries++;
          var ang = tries * Math.PI / 3, r = 26 * Math.ceil(tries / 6);
          dx = Math.round(r * Math.cos(ang));
          dy = Math.round(r * Math.sin(ang));
        }
        placed.push(L.point(pt.x + dx, pt.y + dy));
        it.badge.style.transform = "translate(" + dx + "px," + dy + "px)";
        it.badge.classList.toggle("sc-moved", dx !== 0 || dy !== 0);
      });
    }
    map.on("zoomend", spread);
    group.on("add", spread);
    return group;
  }

  function geoLayer(map, layer) {
    if (layer.kind === "labels") return labelLayer(map, layer);
    if (layer.kind === "proposals") return proposalLayer(map, layer);
    if (layer.pane && !map.getPane(layer.pane)) {
      // above the markers of other scripts (e.g. the scenario editor's sites)
      map.createPane(layer.pane).style.zIndex = 650;
    }
    var opts = {
      interactive: !!layer.interactive,
      style: function (f) { return styleOf(layer, f.properties); },
      pane: layer.pane || undefined,
      pointToLayer: function (f, ll) {
        return L.circleMarker(ll, styleOf(layer, f.properties));
      },
    };
    var g = L.geoJSON(layer.data, opts);
    if (layer.interactive) {
      // one popup and one tooltip function for the whole layer (not one object per feature):
      // thousands of communities load fast, and content is built only when shown
      if (layer.fields && layer.fields.length) {
        g.bindPopup(function (l) {
          return table(popupRows(layer, l.feature.properties));
        }, {maxWidth: 340});
      }
      if (layer.tooltip) {
        g.bindTooltip(function (l) {
          var v = l.feature.properties[layer.tooltip];
          return el("span", null, v === undefined || v === null ? "" : v);
        });
      }
    }
    return g;
  }

  function legend(data) {
    var box = el("div", "sc-panel sc-legend");
    box.id = "sc-legend";
    box.appendChild(el("div", "sc-h", data.legendTitle));
    data.legend.forEach(function (r) {
      var row = el("div", "sc-row");
      var sw = el("span", "sc-" + r.type, r.glyph || null);
      if (r.colour) sw.style.background = r.colour;
      if (r.border) sw.style.borderColor = r.border;
      if (r.solid) sw.style.borderTopStyle = "solid";
      row.appendChild(sw);
      row.appendChild(el("span", null, r.text));
      box.appendChild(row);
    });
    return box;
  }

  function titleBox(data) {
    var box = el("div", "sc-panel sc-title");
    box.id = "sc-title";
    box.appendChild(el("div", "sc-t", data.title));
    if (data.subtitle) box.appendChild(el("div", "sc-sub", data.subtitle));
    (data.summary || []).forEach(function (line) {
      var d = el("div", line.cls ? "sc-line " + line.cls : "sc-line", line.text);
      if (line.key) d.setAttribute("data-key", line.key);
      if (line.value !== undefined) d.setAttribute("data-value", String(line.value));
      box.appendChild(d);
    });
    return box;
  }

  function render(map, id) {
    var node = document.getElementById(id || "sc-data");
    var data = JSON.parse(node.textContent);
    if (data.title) document.title = data.title;
    var overlays = {}, layers = {};
    data.layers.forEach(function (layer) {
      var g = geoLayer(map, layer);
      layers[layer.id] = g;
      if (layer.show !== false) g.addTo(map);
      if (layer.name) overlays[esc(layer.name)] = g;
      if (layer.kind === "background" || layer.kind === "labels") {
        if (g.bringToBack) g.bringToBack();
      }
    });
    var bases = {};
    map.eachLayer(function (l) {
      if (l instanceof L.TileLayer && l.options.scName) bases[esc(l.options.scName)] = l;
    });
    L.control.layers(bases, overlays, {collapsed: data.collapseLayers === true}).addTo(map);
    L.control.scale({metric: true, imperial: false, position: "bottomleft",
                     maxWidth: 160}).addTo(map);
    var container = map.getContainer();
    container.appendChild(titleBox(data));
    container.appendChild(legend(data));
    ["sc-title", "sc-legend"].forEach(function (pid) {
      var p = document.getElementById(pid);
      L.DomEvent.disableClickPropagation(p);
      L.DomEvent.disableScrollPropagation(p);
    });
    // another panel in the bottom-right corner (demand legend) must not hide the scale bar
    var other = document.getElementById("sc-demand-legend");
    if (other) {
      var ctl = container.querySelector(".leaflet-control-layers");
      var top = ctl ? ctl.getBoundingClientRect().bottom + 10 : 10;
      other.style.bottom = "auto";
      other.style.top = top + "px";
    }
    // fit the data into the part of the window the panels leave free
    function fitFree() {
      if (!data.bounds) return;
      map.options.zoomSnap = 0.25;  // fill the free space, not the next whole zoom level
      var size = map.getSize();
      var box = function (sel) {
        var e = document.querySelector(sel);
        return e ? e.getBoundingClientRect() : null;
      };
      var lg = box("#sc-legend"), tt = box("#sc-title"), sc = box(".sc-scn");
      var left = lg ? Math.min(lg.right + 10, size.x * 0.3) : 20;
      var top = tt ? Math.min(tt.bottom + 10, size.y * 0.35) : 20;
      var right = sc ? Math.min(size.x - sc.left + 10, size.x * 0.3) : 20;
      map.fitBounds(data.bounds, {paddingTopLeft: [left, top], paddingBottomRight: [right, 20],
                                  animate: false});
    }
    fitFree();
    window.addEventListener("load", function () { setTimeout(fitFree, 50); });
    var api = {map: map, data: data, layers: layers, fit: fitFree};
    window.scMap = api;
    try {
      document.dispatchEvent(new CustomEvent("sc:ready", {detail: api}));
    } catch (e) { /* very old browsers */ }
    return api;
  }

  window.scRender = render;
})();
