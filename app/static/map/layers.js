// The Leaflet map: CBS boundaries, town names, group hulls, numbered group centres with
// spokes on hover, firm dots (shown from DETAIL_ZOOM on; below it a group is its number),
// unassigned firms clustered on a grid at low zoom, and the legend that is always visible.
/* global L */
import { T } from "./i18n.js";
import { api } from "./api.js";
import { GREY } from "./colour.js";
import { state, esc, firmName, groupTitle } from "./state.js";

export const DETAIL_ZOOM = 10;
const NL_BOUNDS = [[50.75, 3.35], [53.55, 7.23]];
export const HULL = {
  proposed: { weight: 1.5, dashArray: null },
  accepted: { weight: 3.5, dashArray: null },
  rejected: { weight: 1.5, dashArray: "6 5" },
};

export const map = L.map("map", { zoomSnap: 0.25, minZoom: 6, maxZoom: 14, keyboard: true });
map.attributionControl.setPrefix(false);
map.fitBounds(NL_BOUNDS);
["hulls", "spokes", "firms", "labels", "badges"].forEach((name, i) => {
  map.createPane(name).style.zIndex = String(410 + i * 10);
});
map.getPane("labels").style.pointerEvents = "none";
export const layers = {
  hulls: L.layerGroup().addTo(map),
  spokes: L.layerGroup().addTo(map),
  firms: L.layerGroup().addTo(map),
  badges: L.layerGroup().addTo(map),
  unassigned: L.layerGroup().addTo(map),
  labels: L.layerGroup().addTo(map),
  compare: L.layerGroup().addTo(map),
  moved: L.layerGroup().addTo(map),
};
const hooks = { select: () => {}, unassigned: () => {} };
export function onPick(select, unassigned) { hooks.select = select; hooks.unassigned = unassigned; }

export function loadBoundaries() {
  return Promise.all([api("api/v1/boundaries/gemeente"), api("api/v1/boundaries/province")])
    .then(([gemeenten, provinces]) => {
      L.geoJSON(gemeenten, { interactive: false,
        style: { color: "#9aa3ad", weight: 0.6, fill: true, fillColor: "#fbfbf8", fillOpacity: 1 },
      }).addTo(map).bringToBack();
      L.geoJSON(provinces, { interactive: false, style: { color: "#4b5560", weight: 2, fill: false } })
        .addTo(map);
      return provinces.features.map((f) => f.properties.name).sort();
    });
}

// --- town names -----------------------------------------------------------------------

let places = [];
export function loadPlaces() {
  return fetch("map/places.json").then((res) => res.json()).then((body) => {
    places = body.rows.map((r) => ({ name: r[0], lat: r[1], lon: r[2], size: r[3] }));
    map.attributionControl.addAttribution(T("map.wb.places_attribution"));
    drawLabels();
  });
}

// Places inside [south, west, north, east], biggest first (for the print view's small map).
export function placesWithin(box, limit) {
  return places.filter((p) => p.lat >= box[0] && p.lat <= box[2] && p.lon >= box[1] && p.lon <= box[3])
    .slice(0, limit);
}

function minSize(zoom) {
  if (zoom < 7.5) return 20;
  if (zoom < 8.5) return 8;
  if (zoom < 9.5) return 4;
  if (zoom < 10.5) return 2;
  return 1;
}

// Bigger towns first; a label that would overlap one already placed is left out.
function drawLabels() {
  layers.labels.clearLayers();
  const zoom = map.getZoom(), bounds = map.getBounds().pad(0.05), floor = minSize(zoom);
  const placed = [];
  for (const p of places) {
    if (p.size < floor || placed.length >= 160) continue;
    if (!bounds.contains([p.lat, p.lon])) continue;
    const pt = map.latLngToContainerPoint([p.lat, p.lon]);
    const w = p.name.length * 7 + 8, h = 16;
    const rect = [pt.x - w / 2, pt.y - h / 2, pt.x + w / 2, pt.y + h / 2];
    if (placed.some((r) => r[0] < rect[2] && rect[0] < r[2] && r[1] < rect[3] && rect[1] < r[3])) continue;
    placed.push(rect);
    const big = p.size >= 15 ? " big" : "";
    layers.labels.addLayer(L.marker([p.lat, p.lon], { pane: "labels", interactive: false,
      keyboard: false, icon: L.divIcon({ className: "town-label" + big, html: esc(p.name),
        iconSize: [w, h] }) }));
  }
}

// --- groups ---------------------------------------------------------------------------

// In a comparison: unchanged groups fade, dropped ones get a heavy dashed outline.
const COMPARED = {
  unchanged: { opacity: 0.3, fillOpacity: 0.02 },
  changed: {},
  dropped: { weight: 3, dashArray: "10 4", fillOpacity: 0.02 },
};

function hullStyle(g) {
  return Object.assign({ color: g.colour, opacity: 0.85, fillColor: g.colour, fillOpacity: 0.1,
    pane: "hulls", className: "kring-hull" }, HULL[g.status] || HULL.proposed,
  g.compare ? COMPARED[g.compare] : {});
}

export function firmPopup(p, g) {
  const lines = ["<strong>" + esc(firmName(p)) + "</strong>"];
  if (p.postcode || p.gemeente_name) {
    lines.push(esc([p.postcode, p.gemeente_name].filter(Boolean).join(", ")));
  }
  if (p.employees !== null && p.employees !== undefined) lines.push(esc(T("map.employees", { n: p.employees })));
  if (g) lines.push(esc(groupTitle(g)));
  else lines.push(esc(T("map.unassigned_reason", { reason: p.reason_label || p.reason || T("map.no_reason") })));
  return lines.join("<br>");
}

export function drawGroups() {
  state.groups.forEach((g) => {
    g.hullLayer = g.hull ? L.geoJSON(g.hull, { style: () => hullStyle(g) }) : null;
    if (g.hullLayer) {
      g.hullLayer.on("click", () => hooks.select(g.number));
      g.hullLayer.bindTooltip(groupTitle(g), { sticky: true });
    }
    g.markers = g.points.map((f) => {
      const c = f.geometry.coordinates;
      const m = L.circleMarker([c[1], c[0]], { radius: 5, color: "#ffffff", weight: 1,
        fillColor: g.colour, fillOpacity: 0.95, pane: "firms", className: "kring-firm" });
      m.bindPopup(firmPopup(f.properties, g));
      m.externalId = f.properties.external_id;
      return m;
    });
    const size = g.members.length >= 13 ? 26 : 22;
    const number = document.createElement("span");
    number.textContent = String(g.number);
    number.style.setProperty("--c", g.colour); // CSSOM: allowed by the page's CSP
    g.badge = L.marker(g.centre, { pane: "badges", keyboard: false, title: groupTitle(g),
      icon: L.divIcon({ className: "kring-badge status-" + g.status +
        (g.locked ? " locked" : "") + (g.edited_at ? " edited" : ""), iconSize: [size, size],
        html: number }) });
    g.badge.on("click", () => hooks.select(g.number));
    g.badge.on("mouseover", () => showSpokes(g));
    g.badge.on("mouseout", () => showSpokes(null));
  });
}

export function restyle(g) {
  if (g.hullLayer) g.hullLayer.setStyle(hullStyle(g));
  const icon = g.badge && g.badge.getElement();
  if (icon) {
    icon.classList.remove("status-proposed", "status-accepted", "status-rejected");
    icon.classList.add("status-" + g.status);
  }
}

export function showSpokes(g) {
  layers.spokes.clearLayers();
  if (!g) return;
  g.points.forEach((f) => {
    const c = f.geometry.coordinates;
    layers.spokes.addLayer(L.polyline([g.badge.getLatLng(), [c[1], c[0]]], { pane: "spokes",
      color: g.colour, weight: 1.5, opacity: 0.9, interactive: false, className: "kring-spoke" }));
  });
}

// --- unassigned firms -------------------------------------------------------------------

export function drawUnassigned() {
  state.unassigned.forEach((u) => {
    if (!u.feature) return;
    const c = u.feature.geometry.coordinates;
    u.marker = L.circleMarker([c[1], c[0]], { radius: 4.5, color: GREY, weight: 2,
      fillColor: "#ffffff", fillOpacity: 1, pane: "firms", className: "kring-unassigned" });
    u.marker.bindPopup(firmPopup(u, null));
    u.marker.on("click", () => hooks.unassigned(u.external_id));
  });
}

// Below DETAIL_ZOOM unassigned firms are grouped per 48 px cell: one ring with the count.
function unassignedClusters(visible) {
  const cells = {};
  visible.forEach((u) => {
    const p = map.latLngToLayerPoint(u.marker.getLatLng());
    const key = Math.floor(p.x / 48) + ":" + Math.floor(p.y / 48);
    (cells[key] = cells[key] || []).push(u);
  });
  return Object.keys(cells).map((key) => cells[key]);
}

// Numbers that would overlap are pushed apart a little (their spokes still start at
// the true centre); a few rounds of pairwise repulsion in screen pixels.
function declutter(groups) {
  const size = 24;
  const pts = groups.map((g) => map.latLngToLayerPoint(g.centre));
  for (let round = 0; round < 24; round++) {
    let moved = false;
    for (let i = 0; i < pts.length; i++) {
      for (let j = i + 1; j < pts.length; j++) {
        const dx = pts[j].x - pts[i].x, dy = pts[j].y - pts[i].y;
        if (Math.abs(dx) >= size || Math.abs(dy) >= size) continue;
        const d = Math.sqrt(dx * dx + dy * dy) || 0.01;
        if (d >= size) continue;
        const push = (size - d) / 2 + 0.5;
        const ux = d > 0.01 ? dx / d : Math.cos(i + j), uy = d > 0.01 ? dy / d : Math.sin(i + j);
        pts[i] = L.point(pts[i].x - ux * push, pts[i].y - uy * push);
        pts[j] = L.point(pts[j].x + ux * push, pts[j].y + uy * push);
        moved = true;
      }
    }
    if (!moved) break;
  }
  groups.forEach((g, i) => g.badge.setLatLng(map.layerPointToLatLng(pts[i])));
}

// Put the visible groups' layers on the map for the current zoom and options.
export function syncLayers(options) {
  const detail = map.getZoom() >= DETAIL_ZOOM;
  [layers.hulls, layers.firms, layers.badges, layers.unassigned, layers.moved].forEach((l) => l.clearLayers());
  if (state.compare) {
    state.compare.rings.forEach((r) => {
      if (state.selected ? r.group === state.selected : detail) layers.moved.addLayer(r.layer);
    });
  }
  state.groups.forEach((g) => {
    if (!g.visible) return;
    const chosen = g.number === state.selected;
    if (g.hullLayer && (options.hulls || chosen)) layers.hulls.addLayer(g.hullLayer);
    if (detail || chosen) g.markers.forEach((m) => layers.firms.addLayer(m));
    layers.badges.addLayer(g.badge);
    const icon = g.badge.getElement();
    if (icon) icon.classList.toggle("faded", Boolean(g.faded));
  });
  declutter(state.groups.filter((g) => g.visible));
  if (!options.unassigned) return;
  const shown = state.unassigned.filter((u) => u.marker && u.visible);
  if (detail) { shown.forEach((u) => layers.unassigned.addLayer(u.marker)); return; }
  unassignedClusters(shown).forEach((cell) => {
    if (cell.length === 1) { layers.unassigned.addLayer(cell[0].marker); return; }
    let lat = 0, lon = 0;
    cell.forEach((u) => { const ll = u.marker.getLatLng(); lat += ll.lat; lon += ll.lng; });
    const centre = [lat / cell.length, lon / cell.length];
    const bubble = L.marker(centre, { pane: "firms", keyboard: false,
      title: T("map.wb.cluster_title", { n: cell.length }),
      icon: L.divIcon({ className: "kring-cluster", iconSize: [26, 26], html: String(cell.length) }) });
    bubble.on("click", () => map.setView(centre, DETAIL_ZOOM));
    layers.unassigned.addLayer(bubble);
  });
}

export function emphasise(groupId) {
  state.groups.forEach((o) => {
    const chosen = groupId === null || o.number === groupId;
    if (o.hullLayer) {
      const base = HULL[o.status] || HULL.proposed;
      o.hullLayer.setStyle({ weight: o.number === groupId ? base.weight + 2 : base.weight,
        opacity: chosen ? 0.9 : 0.2, fillOpacity: o.number === groupId ? 0.1 : chosen ? 0.1 : 0.03 });
      if (o.number === groupId) o.hullLayer.bringToFront();
    }
    const own = o.number === groupId;
    o.markers.forEach((m) => {
      m.setStyle({ fillOpacity: chosen ? 0.95 : 0.25, opacity: chosen ? 1 : 0.3,
        color: own ? "#1b1f24" : "#ffffff", weight: own ? 1.5 : 1 });
      m.setRadius(own ? 6.5 : 5);
      if (own) m.bringToFront();
    });
    const icon = o.badge.getElement();
    if (icon) icon.classList.toggle("faded", !chosen);
    o.faded = !chosen;
  });
}

// Room for the legend in the map's bottom-right corner when fitting groups into view.
export function fitPadding() {
  const wide = map.getSize().x > 640;
  return { paddingTopLeft: [20, 20], paddingBottomRight: [wide ? 260 : 20, 20] };
}

export function groupBounds(g) {
  const b = L.latLngBounds([]);
  g.markers.forEach((m) => b.extend(m.getLatLng()));
  return b;
}

export function onView(redraw) {
  map.on("zoomend", redraw);
  map.on("moveend", drawLabels);
}

// The legend: a map control, so it stays in view whatever the panel scrolls to.
export function addLegend() {
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = () => {
    const box = L.DomUtil.create("section", "legend-box");
    box.id = "legend";
    box.setAttribute("aria-label", T("map.legend"));
    box.innerHTML = '<button type="button" class="legend-toggle" aria-expanded="true">' +
      esc(T("map.legend")) + "</button><ul>" +
      '<li><span class="key badge-key">7</span> ' + esc(T("map.wb.legend.badge")) + "</li>" +
      '<li><span class="key dot"></span> ' + esc(T("map.wb.legend.firm")) + "</li>" +
      '<li><span class="key area"></span> ' + esc(T("map.wb.legend.hull")) + "</li>" +
      '<li><span class="key ring"></span> ' + esc(T("map.wb.legend.unassigned")) + "</li>" +
      '<li><span class="key cluster">4</span> ' + esc(T("map.wb.legend.cluster")) + "</li>" +
      '<li><span class="key moved"></span> ' + esc(T("map.wb.legend.moved")) + "</li>" +
      '<li><span class="key line thick"></span> ' + esc(T("map.legend.province")) + "</li>" +
      '<li><span class="key line"></span> ' + esc(T("map.legend.gemeente")) + "</li></ul>" +
      '<p class="hint">' + esc(T("map.wb.legend.hint")) + "</p>";
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    const toggle = box.querySelector(".legend-toggle");
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      box.classList.toggle("closed", !open);
    });
    return box;
  };
  legend.addTo(map);
}
