/* global L */
// kring werkbank: a programme manager's map of a run's groups (the page's entry module).
//
// Data comes only from the kring API, with the caller's key in the X-API-Key header:
//   GET api/v1/boundaries/{province,gemeente}, GET map/places.json   base layers (public)
//   GET api/v1/me, api/v1/runs, api/v1/needs, api/v1/profiles         who, which runs, labels
//   GET api/v1/runs/{id}/groups and /groups.geojson?unassigned=true    groups, firms, hulls
//   POST api/v1/runs/{id}/groups/{n}/accept|reject                    decisions (manager)
//   GET api/v1/runs/{id}/unassigned/{firm}/relaxation                 waarom niet ingedeeld?
//   GET api/v1/runs/{a}/compare/{b}, POST api/v1/runs                   compare, start a run
//   POST api/v1/runs/{id}/edits?dry_run=, GET .../edits, .../lock|unlock  hand edits (edits.js)
//   GET api/v1/runs/{id}/groups/{n}/invitation(.xlsx|.csv)              invitation (history.js)
//   GET api/v1/texts?lang=nl|en                                       every label (catalogue)
// Deep links: map?run=12&group=7 (also &firm=ID, &compare=ID, &view=print, &lang=en).
// No tiles, no CDN: the page works offline.
import { LANG, T, loadTexts, urlInLanguage } from "./i18n.js";
import { KEY_STORAGE, api, explainError, session } from "./api.js";
import { assignColours } from "./colour.js";
import * as layers from "./layers.js";
import * as panel from "./panel.js";
import { decide, whyNot } from "./decide.js";
import { clearCompare, compareWith, fillCompareSelect } from "./compare.js";
import { follow, loadProfiles, startRun } from "./newrun.js";
import { printUrl, renderPrint } from "./print.js";
import { offerAdd, onApplied, renderEdits } from "./edits.js";
import { loadHistory, renderInvitationButton } from "./history.js";
import { state, el, may, setStatus, showMessage } from "./state.js";

const ACTIVE = ["queued", "running"];
const params = new URLSearchParams(location.search);
const MANY_GROUPS = 30; // above this, all outlines at once are a tangle: off by default
let provinces = null;

// --- API key and runs -----------------------------------------------------------------

function askForKey(text) {
  session.key = null;
  sessionStorage.removeItem(KEY_STORAGE);
  el("organisation").textContent = "";
  el("key-form").hidden = false;
  el("change-key").hidden = true;
  el("run-select").disabled = true;
  el("filters").disabled = true;
  el("search").disabled = true;
  showMessage(text || "");
  el("key-input").focus();
}

// The linked run's groups, asked for together with the run list (one round trip less).
let prefetched = null;
function runData(runId) {
  const base = "api/v1/runs/" + encodeURIComponent(runId);
  return Promise.all([api(base + "/groups"), api(base + "/groups.geojson?unassigned=true")]);
}

function useKey(key) {
  session.key = key;
  showMessage("");
  setStatus(T("map.loading_runs"));
  const linked = Number(params.get("run"));
  if (linked) {
    const data = runData(linked);
    data.catch(() => null); // a run not finished yet answers 409: selectRun asks again later
    prefetched = { runId: linked, data: data };
  }
  return Promise.all([api("api/v1/me"), api("api/v1/runs?limit=100"), api("api/v1/needs")])
    .then(([me, runs, needs]) => {
      sessionStorage.setItem(KEY_STORAGE, key);
      state.me = me;
      el("key-form").hidden = true;
      el("key-input").value = "";
      el("change-key").hidden = false;
      el("organisation").textContent = me.organisation_name + " (" + me.role + ")";
      (needs.themes || []).forEach((t) => { state.themes[t.code] = t; });
      (needs.items || []).forEach((n) => { state.needs[n.code] = n; });
      loadProfiles();
      loadRuns(runs);
    })
    .catch((err) => { clearRun(); askForKey(explainError(err)); setStatus(""); });
}

function runLabel(run) {
  const when = (run.finished_at || run.created_at || "").slice(0, 16).replace("T", " ");
  return T("map.run_label", { id: run.id, purpose: T("map.purpose." + run.purpose),
    status: T("map.run_status." + run.status) }) + (when ? " · " + when : "");
}

function loadRuns(body, wanted) {
  state.runs = body.items || [];
  const select = el("run-select");
  select.textContent = "";
  if (!state.runs.length) {
    select.appendChild(new Option(T("map.no_runs_option"), ""));
    setStatus(T("map.no_runs"));
    return;
  }
  state.runs.forEach((run) => {
    const option = new Option(runLabel(run), String(run.id));
    option.disabled = run.status !== "succeeded" && ACTIVE.indexOf(run.status) < 0;
    select.appendChild(option);
  });
  select.disabled = false;
  const done = state.runs.find((r) => r.status === "succeeded");
  const active = state.runs.find((r) => ACTIVE.indexOf(r.status) >= 0);
  const runId = wanted || Number(params.get("run")) || (done || active || {}).id;
  if (!runId) { setStatus(T("map.no_finished_run")); return; }
  select.value = String(runId);
  selectRun(runId);
}

function knownRun(runId) { return state.runs.find((r) => r.id === runId) || null; }

// A queued or running run: a live progress bar; drawn once it has succeeded.
function watchRun(runId) {
  const box = el("run-progress");
  box.hidden = false;
  follow(runId, el("run-progress-bar"), el("run-progress-text"), () => state.runId === runId)
    .then((run) => {
      if (!run) return;
      const known = knownRun(runId);
      if (known) Object.assign(known, run);
      const option = el("run-select").querySelector('option[value="' + runId + '"]');
      if (option) option.textContent = runLabel(run);
      box.hidden = true;
      if (run.status === "succeeded") selectRun(runId);
      else setStatus(T("map.run_ended", { id: runId, status: T("map.run_status." + run.status),
        error: run.error ? ": " + run.error : "" }));
    })
    .catch((err) => { if (err.status === 401) askForKey(explainError(err)); else showMessage(explainError(err)); });
}

function clearRun() {
  delete document.body.dataset.run;
  clearCompare();
  Object.keys(layers.layers).forEach((name) => { if (name !== "labels") layers.layers[name].clearLayers(); });
  Object.assign(state, { groups: [], groupById: {}, unassigned: [], unassignedById: {}, selected: null });
  ["group-list", "unassigned-list", "group-count", "unassigned-count", "search-results"].forEach((id) => {
    el(id).textContent = "";
  });
  el("group-detail").hidden = true;
  el("why").hidden = true;
  el("run-progress").hidden = true;
}

function selectRun(runId) {
  clearRun();
  state.runId = runId;
  const known = knownRun(runId);
  if (!known || known.status !== "succeeded") { watchRun(runId); return; }
  setStatus(T("map.loading_run", { id: runId }));
  const early = prefetched && prefetched.runId === runId ? prefetched.data : null;
  prefetched = null;
  (early ? early.catch(() => runData(runId)) : runData(runId))
    .then(([groups, geojson]) => {
      performance.mark("kring-data");
      if (state.runId === runId) buildRun(groups, geojson);
    })
    .catch((err) => {
      if (err.status === 401) askForKey(explainError(err));
      else showMessage(explainError(err));
      setStatus("");
    });
}

// --- one run: data model ---------------------------------------------------------------

function mostCommon(values) {
  const count = {};
  values.forEach((v) => { if (v) count[v] = (count[v] || 0) + 1; });
  return Object.keys(count).sort((a, b) => count[b] - count[a] || a.localeCompare(b))[0] || "";
}

function joinGroup(g, points, hull) {
  const byExternal = {};
  points.forEach((f) => { byExternal[f.properties.external_id] = f.properties; });
  const members = g.members.map((m) => Object.assign({}, byExternal[m.external_id] || {}, m));
  const provincesOf = {}, gemeenten = {}, shared = {};
  members.forEach((m) => { if (m.province) provincesOf[m.province] = true; if (m.gemeente_name) gemeenten[m.gemeente_name] = true; });
  ((g.details || {}).shared_needs || []).forEach((s) => { if (s.count >= 2) shared[s.need] = true; });
  let lat = 0, lon = 0;
  points.forEach((f) => { lon += f.geometry.coordinates[0]; lat += f.geometry.coordinates[1]; });
  const c = (g.details || {}).centroid;
  const centre = c ? [c.lat, c.lon] : [lat / Math.max(points.length, 1), lon / Math.max(points.length, 1)];
  return Object.assign({}, g, { members: members, points: points, hull: hull, centre: centre,
    provinces: provincesOf, gemeenten: gemeenten, shared: shared,
    place: mostCommon(members.map((m) => m.gemeente_name)) });
}

function buildRun(body, geojson) {
  const firmFeatures = {}, hullFeatures = {}, loose = {};
  geojson.features.forEach((f) => {
    const p = f.properties || {};
    if (f.geometry && f.geometry.type === "Point") {
      if (p.group_number === null || p.group_number === undefined) loose[p.external_id] = f;
      else (firmFeatures[p.group_number] = firmFeatures[p.group_number] || []).push(f);
    } else if (f.geometry) hullFeatures[p.group_number] = f;
  });
  state.groups = body.groups.map((g) => joinGroup(g, firmFeatures[g.number] || [], hullFeatures[g.number] || null));
  const colouring = assignColours(state.groups);
  document.body.dataset.neighbourPairs = String(colouring.edges);
  document.body.dataset.colourClashes = String(colouring.clashes);
  state.groups.forEach((g) => { state.groupById[g.number] = g; });
  state.unassigned = (body.unassigned || []).map((row) => {
    const f = loose[row.external_id];
    return Object.assign({}, f ? f.properties : {}, row, { feature: f || null });
  });
  state.unassigned.forEach((u) => { state.unassignedById[u.external_id] = u; });
  panel.fillFilters(provinces);
  el("show-hulls").checked = state.groups.length <= MANY_GROUPS;
  el("filters").disabled = false;
  el("search").disabled = false;
  layers.drawGroups();
  layers.drawUnassigned();
  panel.renderUnassignedList(showUnassigned);
  panel.renderSummary();
  fillCompareSelect();
  const bounds = L.latLngBounds([]);
  state.groups.forEach((g) => bounds.extend(layers.groupBounds(g)));
  if (bounds.isValid()) layers.map.fitBounds(bounds, Object.assign({ animate: false }, layers.fitPadding()));
  applyFilters();
  document.body.dataset.run = String(state.runId);
  performance.mark("kring-rendered");
  loadHistory();
  afterLoad();
}

// The deep link's group, firm, comparison or print view, once (on the run it names).
function afterLoad() {
  if (Number(params.get("run")) !== state.runId) return;
  const group = Number(params.get("group"));
  if (params.get("view") === "print" && group) { renderPrint(group); return; }
  if (group && state.groupById[group]) selectGroup(group);
  const firm = params.get("firm");
  if (firm) openFirm(firm);
  const other = Number(params.get("compare"));
  if (other) { el("compare-select").value = String(other); el("compare-card").open = true; runCompare(other); }
  params.delete("group"); params.delete("firm"); params.delete("compare");
}

function syncUrl() {
  const p = new URLSearchParams();
  p.set("run", String(state.runId));
  if (state.selected) p.set("group", String(state.selected));
  if (state.compare) p.set("compare", String(state.compare.other));
  if (LANG === "en") p.set("lang", "en");
  history.replaceState(null, "", "map?" + p.toString());
  el("lang-nl").href = urlInLanguage("nl");
  el("lang-en").href = urlInLanguage("en");
}

function applyFilters() {
  const f = panel.filters();
  panel.applyVisibility(f);
  layers.syncLayers(f);
  panel.renderGroupList(selectGroup);
  setStatus(T("map.run_summary", { id: state.runId, groups: state.groups.length, unassigned: state.unassigned.length }));
  if (state.selected && !state.groupById[state.selected].visible) closeDetail();
  syncUrl();
}

// --- selection ------------------------------------------------------------------------------

function selectGroup(number) {
  const g = state.groupById[number];
  if (!g) return;
  state.selected = number;
  document.querySelectorAll(".group-item").forEach((b) => {
    b.setAttribute("aria-pressed", String(Number(b.dataset.groupId) === number));
  });
  layers.syncLayers(panel.filters());
  layers.emphasise(number);
  layers.showSpokes(null);
  const bounds = layers.groupBounds(g);
  if (bounds.isValid()) layers.map.fitBounds(bounds, Object.assign({ maxZoom: 11 }, layers.fitPadding()));
  panel.showDetail(g);
  renderEdits(g);
  renderInvitationButton(g);
  el("print-link").href = printUrl(number);
  el("group-detail").scrollIntoView({ block: "nearest" });
  syncUrl();
}

function closeDetail() {
  state.selected = null;
  el("group-detail").hidden = true;
  document.querySelectorAll(".group-item").forEach((b) => b.setAttribute("aria-pressed", "false"));
  layers.syncLayers(panel.filters());
  layers.emphasise(null);
  syncUrl();
}

function showUnassigned(externalId) {
  const u = state.unassignedById[externalId];
  if (!u) return;
  if (state.selected) closeDetail();
  if (u.marker) {
    layers.map.setView(u.marker.getLatLng(), Math.max(layers.map.getZoom(), 11), { animate: false });
    layers.layers.unassigned.addLayer(u.marker);
    u.marker.openPopup();
  }
  el("why-edits").textContent = "";
  whyNot(u, selectGroup).then((answer) => { if (answer) offerAdd(u, answer); });
  el("why").scrollIntoView({ block: "nearest" });
}

function openFirm(externalId, group) {
  const g = group || state.groups.find((o) => o.members.some((m) => m.external_id === externalId));
  if (!g) { showUnassigned(externalId); return; }
  selectGroup(g.number);
  const marker = g.markers.find((m) => m.externalId === externalId);
  if (marker) {
    layers.map.setView(marker.getLatLng(), Math.max(layers.map.getZoom(), 11), { animate: false });
    marker.openPopup();
  }
  const row = document.querySelector('#member-table tr[data-external-id="' + CSS.escape(externalId) + '"]');
  if (row) row.classList.add("found");
}

// After a hand edit: the run's groups again, the same group's card (its number stays).
function refreshRun(number) {
  const runId = state.runId;
  return runData(runId).then(([groups, geojson]) => {
    if (state.runId !== runId) return;
    clearRun();
    state.runId = runId;
    buildRun(groups, geojson);
    if (number && state.groupById[number]) selectGroup(number);
  }).catch((err) => showMessage(explainError(err)));
}

function runCompare(otherId) {
  compareWith(otherId).then(() => {
    state.groups.forEach(layers.restyle);
    applyFilters();
  });
}

function onDecision(verdict) {
  const g = state.groupById[state.selected];
  if (!g) return;
  decide(g, verdict).then((done) => {
    if (!done) return;
    layers.restyle(done);
    applyFilters();
    if (state.selected === done.number) { panel.showDetail(done); renderEdits(done); renderInvitationButton(done); }
  });
}

// --- wiring -----------------------------------------------------------------------------------

const textsReady = loadTexts().catch(() => { /* the page keeps its built-in words */ });
el("lang-" + LANG).setAttribute("aria-current", "true");
el("lang-nl").href = urlInLanguage("nl");
el("lang-en").href = urlInLanguage("en");
el("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = el("key-input").value.trim();
  if (key) textsReady.then(() => useKey(key));
});
el("change-key").addEventListener("click", () => { clearRun(); askForKey(""); });
el("run-select").addEventListener("change", (event) => {
  if (event.target.value) selectRun(Number(event.target.value));
});
["filter-need", "filter-province", "filter-gemeente", "filter-min", "filter-max", "show-unassigned", "show-hulls"]
  .forEach((id) => el(id).addEventListener("change", applyFilters));
document.querySelectorAll("input[name=status]").forEach((i) => i.addEventListener("change", applyFilters));
el("detail-close").addEventListener("click", () => {
  const previous = state.selected;
  closeDetail();
  const button = document.querySelector('.group-item[data-group-id="' + previous + '"]');
  if (button) button.focus();
});
el("why-close").addEventListener("click", () => { el("why").hidden = true; });
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || event.target.closest("input, textarea, select")) return;
  if (state.selected) el("detail-close").click();
  else if (!el("why").hidden) el("why").hidden = true;
});
el("accept").addEventListener("click", () => onDecision("accept"));
el("reject").addEventListener("click", () => onDecision("reject"));
let searchTimer = null;
el("search").addEventListener("input", (event) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => panel.search(event.target.value, openFirm), 150);
});
el("search").addEventListener("keydown", (event) => {
  if (event.key !== "Enter") return;
  event.preventDefault();
  panel.search(event.target.value, openFirm).then((hits) => {
    if (hits.length) openFirm(hits[0].firm.external_id, hits[0].group);
  });
});
el("compare-select").addEventListener("change", (event) => {
  const other = Number(event.target.value);
  if (other) runCompare(other);
  else { clearCompare(); state.groups.forEach(layers.restyle); applyFilters(); }
});
el("start-run").addEventListener("click", () => startRun((run) => {
  api("api/v1/runs?limit=100").then((runs) => loadRuns(runs, run.status === "succeeded" ? run.id : null));
}));
layers.onPick(selectGroup, showUnassigned);
onApplied(refreshRun);
layers.onView(() => layers.syncLayers(panel.filters()));

textsReady.then(() => {
  layers.map.attributionControl.addAttribution(T("map.attribution"));
  layers.addLegend();
  layers.loadPlaces().catch(() => { /* the map works without town names */ });
  layers.loadBoundaries().then((names) => {
    provinces = names;
    panel.fillFilters(provinces);
  }).catch((err) => showMessage(explainError(err)));
  const stored = sessionStorage.getItem(KEY_STORAGE);
  if (stored) useKey(stored); // boundaries and places load meanwhile
  else askForKey("");
});
