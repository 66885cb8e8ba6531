// Compare the run on the map with another one (GET api/v1/runs/{a}/compare/{b}): groups
// unchanged, changed, dropped (this run) and new (the other run), moved firms ringed.
/* global L */
import { T, decimal } from "./i18n.js";
import { api, explainError } from "./api.js";
import { layers } from "./layers.js";
import { state, el, esc, showMessage } from "./state.js";

const STYLE = {
  new: { color: "#000000", weight: 2.5, dashArray: "2 5", fill: false },
};

export function clearCompare() {
  state.compare = null;
  layers.compare.clearLayers();
  layers.moved.clearLayers();
  state.groups.forEach((g) => { delete g.compare; });
  el("compare-summary").textContent = "";
  delete document.body.dataset.compare;
  delete document.body.dataset.moved;
}

export function fillCompareSelect() {
  const select = el("compare-select");
  const keep = select.options[0];
  select.textContent = "";
  select.appendChild(keep);
  state.runs.filter((r) => r.status === "succeeded" && r.id !== state.runId).forEach((r) => {
    select.appendChild(new Option(T("map.run_label", { id: r.id, purpose: T("map.purpose." + r.purpose),
      status: T("map.run_status." + r.status) }), String(r.id)));
  });
  select.disabled = select.options.length < 2;
}

// A ring per moved firm; layers.syncLayers shows them where the firms themselves show.
function ringMoved(ids) {
  const wanted = {};
  ids.forEach((id) => { wanted[id] = true; });
  const rings = [];
  state.groups.forEach((g) => g.markers.forEach((m) => {
    if (!wanted[m.externalId]) return;
    rings.push({ group: g.number, layer: L.circleMarker(m.getLatLng(), { radius: 8.5, color: "#000000",
      weight: 2, fill: false, pane: "firms", interactive: false, className: "kring-moved" }) });
  }));
  return rings;
}

export function compareWith(otherId) {
  clearCompare();
  if (!otherId) return Promise.resolve(null);
  const a = encodeURIComponent(state.runId), b = encodeURIComponent(otherId);
  el("compare-summary").textContent = T("map.wb.compare_loading");
  return Promise.all([api("api/v1/runs/" + a + "/compare/" + b), api("api/v1/runs/" + b + "/groups.geojson")])
    .then(([cmp, other]) => {
      if (String(state.runId) !== a) return null;
      const matchedA = {}, matchedB = {};
      cmp.matched_groups.forEach((m) => { matchedA[m.a] = m; matchedB[m.b] = m; });
      state.groups.forEach((g) => {
        const m = matchedA[g.number];
        g.compare = !m ? "dropped" : m.same_members ? "unchanged" : "changed";
      });
      const fresh = other.features.filter((f) => f.geometry && f.geometry.type !== "Point" &&
        !matchedB[f.properties.group_number]);
      fresh.forEach((f) => {
        const hull = L.geoJSON(f, { style: () => Object.assign({ pane: "hulls", className: "kring-new-hull" }, STYLE.new) });
        hull.bindTooltip(T("map.wb.new_group", { number: f.properties.group_number }), { sticky: true });
        layers.compare.addLayer(hull);
      });
      const rings = ringMoved(cmp.moved.map((m) => m.external_id));
      const count = (kind) => state.groups.filter((g) => g.compare === kind).length;
      state.compare = { other: otherId, body: cmp, unchanged: count("unchanged"), changed: count("changed"),
        dropped: count("dropped"), fresh: fresh.length, rings: rings };
      document.body.dataset.moved = String(rings.length);
      renderSummary(state.compare);
      document.body.dataset.compare = String(otherId);
      return state.compare;
    })
    .catch((err) => { el("compare-summary").textContent = ""; showMessage(explainError(err)); return null; });
}

function renderSummary(c) {
  const b = c.body;
  const pct = (v) => decimal(100 * v, 0) + " %";
  const lines = [
    T("map.wb.cmp.groups_line", { unchanged: c.unchanged, changed: c.changed, fresh: c.fresh, dropped: c.dropped }),
    T("map.wb.cmp.firms_line", { moved: b.moved.length, placed: b.newly_placed.length, dropped: b.dropped.length }),
    T("map.wb.cmp.coverage_line", { a: pct(b.coverage.a), b: pct(b.coverage.b) }),
  ];
  Object.keys(b.constraint_differences).forEach((setting) => {
    const d = b.constraint_differences[setting];
    lines.push(T("map.wb.cmp.setting_line", { setting: setting, a: d.a, b: d.b }));
  });
  el("compare-summary").innerHTML = "<ul>" + lines.map((l) => "<li>" + esc(l) + "</li>").join("") + "</ul>" +
    (b.comparable_note ? '<p class="hint">' + esc(b.comparable_note) + "</p>" : "");
}
