// The print view of one group for its first meeting (?view=print&group=N): members with
// postcode, gemeente and needs, the shared needs, and a small map drawn as SVG.
import { T } from "./i18n.js";
import { placesWithin } from "./layers.js";
import { state, el, esc, needLabel, groupTitle, firmName } from "./state.js";

const W = 420, H = 300, PAD = 24;

function smallMap(g) {
  const pts = g.points.map((f) => f.geometry.coordinates);
  let s = Infinity, w = Infinity, n = -Infinity, e = -Infinity;
  pts.forEach((c) => { w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]); });
  const padLat = Math.max((n - s) * 0.15, 0.03), padLon = Math.max((e - w) * 0.15, 0.05);
  s -= padLat; n += padLat; w -= padLon; e += padLon;
  const k = Math.cos(((s + n) / 2) * Math.PI / 180);
  const scale = Math.min((W - 2 * PAD) / ((e - w) * k), (H - 2 * PAD) / (n - s));
  const xy = (lon, lat) => [PAD + (lon - w) * k * scale, H - PAD - (lat - s) * scale];
  const parts = ['<svg class="small-map" viewBox="0 0 ' + W + " " + H + '" role="img" aria-label="' +
    esc(T("map.wb.print_map", { number: g.number })) + '">', '<rect width="100%" height="100%" class="sea"/>'];
  const ring = g.hull && g.hull.geometry ? g.hull.geometry.coordinates[0] : [];
  if (ring.length) {
    parts.push('<polygon class="hull" points="' + ring.map((c) => xy(c[0], c[1]).map((v) => v.toFixed(1)).join(",")).join(" ") + '"/>');
  }
  placesWithin([s, w, n, e], 8).forEach((p) => {
    const q = xy(p.lon, p.lat);
    parts.push('<text class="place" x="' + q[0].toFixed(1) + '" y="' + q[1].toFixed(1) + '">' + esc(p.name) + "</text>");
  });
  g.points.forEach((f, i) => {
    const q = xy(f.geometry.coordinates[0], f.geometry.coordinates[1]);
    parts.push('<circle class="firm" cx="' + q[0].toFixed(1) + '" cy="' + q[1].toFixed(1) + '" r="5"/>' +
      '<text class="num" x="' + (q[0] + 7).toFixed(1) + '" y="' + (q[1] + 4).toFixed(1) + '">' + (i + 1) + "</text>");
  });
  parts.push("</svg>");
  return parts.join("");
}

export function renderPrint(groupNumber) {
  const g = state.groupById[groupNumber];
  const sheet = el("print-sheet");
  document.body.classList.add("print-view");
  sheet.hidden = false;
  if (!g) { sheet.textContent = T("map.wb.print_missing", { number: groupNumber }); return; }
  const order = {};
  g.points.forEach((f, i) => { order[f.properties.external_id] = i + 1; });
  const shared = ((g.details || {}).shared_needs || []).filter((s) => s.count >= 2);
  const back = new URLSearchParams(location.search);
  back.delete("view");
  sheet.innerHTML =
    '<nav class="no-print"><a href="map?' + esc(back.toString()) + '">' + esc(T("map.wb.back_to_map")) + "</a> " +
    '<button type="button" id="print-now">' + esc(T("map.wb.print_now")) + "</button></nav>" +
    "<h1>" + esc(groupTitle(g)) + "</h1>" +
    '<p class="meta">' + esc(T("map.wb.print_meta", { run: state.runId, n: g.members.length,
      status: T("map.status." + g.status), place: g.place })) + "</p>" +
    (g.explanation ? "<p>" + esc(g.explanation) + "</p>" : "") +
    '<div class="print-grid"><div>' + smallMap(g) + '</div><div><h2>' + esc(T("map.wb.shared_needs_title")) + "</h2><ul>" +
    shared.map((s) => "<li>" + esc(T("map.wb.shared_need", { need: needLabel(s.need), count: s.count, n: g.members.length })) + "</li>").join("") +
    "</ul></div></div>" +
    "<h2>" + esc(T("map.members")) + '</h2><table class="print-members"><thead><tr><th>#</th><th>' +
    esc(T("map.col.name")) + "</th><th>" + esc(T("map.wb.col.postcode")) + "</th><th>" + esc(T("map.col.gemeente")) +
    "</th><th>" + esc(T("map.col.employees_title")) + "</th><th>" + esc(T("map.col.needs")) + "</th></tr></thead><tbody>" +
    g.members.map((m) => "<tr><td>" + (order[m.external_id] || "") + "</td><td>" + esc(firmName(m)) + "</td><td>" +
      esc(m.postcode || "") + "</td><td>" + esc(m.gemeente_name || "") + "</td><td>" +
      esc(m.employees === null || m.employees === undefined ? "" : m.employees) + "</td><td>" +
      esc((m.needs || []).map(needLabel).join(", ")) + "</td></tr>").join("") + "</tbody></table>" +
    '<p class="hint">' + esc(T("map.wb.print_hint")) + "</p>";
  el("print-now").addEventListener("click", () => window.print());
  document.title = groupTitle(g);
  document.body.dataset.print = String(g.number);
}

export function printUrl(groupNumber) {
  const params = new URLSearchParams(location.search);
  params.set("run", String(state.runId));
  params.set("group", String(groupNumber));
  params.set("view", "print");
  return "map?" + params.toString();
}
