// The side panel: filters, the group list, the summary per province and gemeente, firm
// search (name, KvK number, postcode) and the group card.
import { T, km, decimal } from "./i18n.js";
import { api } from "./api.js";
import { state, el, esc, may, needLabel, groupTitle, firmName } from "./state.js";

// --- filters --------------------------------------------------------------------------

function fillSelect(select, pairs) {
  const keep = select.options[0];
  select.textContent = "";
  select.appendChild(keep);
  pairs.forEach((pair) => select.appendChild(new Option(pair[1], pair[0])));
}

export function fillFilters(provinces) {
  if (provinces) fillSelect(el("filter-province"), provinces.map((n) => [n, n]));
  const gemeenten = {};
  state.groups.forEach((g) => g.members.forEach((m) => { if (m.gemeente_name) gemeenten[m.gemeente_name] = 1; }));
  state.unassigned.forEach((u) => { if (u.gemeente_name) gemeenten[u.gemeente_name] = 1; });
  fillSelect(el("filter-gemeente"), Object.keys(gemeenten).sort().map((n) => [n, n]));
  const select = el("filter-need");
  const byTheme = {};
  state.groups.forEach((g) => {
    if (!g.theme) return;
    const theme = g.theme.split(".")[0];
    (byTheme[theme] = byTheme[theme] || {})[g.theme] = true;
  });
  fillSelect(select, []);
  Object.keys(byTheme).sort().forEach((theme) => {
    const optgroup = document.createElement("optgroup");
    optgroup.label = needLabel(theme);
    optgroup.appendChild(new Option(T("map.all_of", { theme: needLabel(theme) }), theme));
    Object.keys(byTheme[theme]).sort().forEach((code) => {
      if (code !== theme) optgroup.appendChild(new Option(needLabel(code), code));
    });
    select.appendChild(optgroup);
  });
}

export function filters() {
  const statuses = Array.prototype.filter.call(document.querySelectorAll("input[name=status]"),
    (i) => i.checked).map((i) => i.value);
  return { need: el("filter-need").value, province: el("filter-province").value,
    gemeente: el("filter-gemeente").value, min: Number(el("filter-min").value) || 0,
    max: Number(el("filter-max").value) || Infinity, statuses: statuses,
    hulls: el("show-hulls").checked, unassigned: el("show-unassigned").checked };
}

export function applyVisibility(f) {
  let shown = 0;
  state.groups.forEach((g) => {
    g.visible = f.statuses.indexOf(g.status) >= 0 &&
      !(f.need && !(g.theme === f.need || (g.theme || "").split(".")[0] === f.need)) &&
      !(f.province && !g.provinces[f.province]) && !(f.gemeente && !g.gemeenten[f.gemeente]) &&
      g.members.length >= f.min && g.members.length <= f.max;
    if (g.visible) shown += 1;
  });
  state.unassigned.forEach((u) => {
    u.visible = !(f.province && u.province !== f.province) && !(f.gemeente && u.gemeente_name !== f.gemeente);
  });
  el("group-count").textContent = T("map.count_of", { shown: shown, total: state.groups.length });
  return shown;
}

// --- group list ---------------------------------------------------------------------------

export function renderGroupList(onSelect) {
  const list = el("group-list");
  list.textContent = "";
  state.groups.forEach((g) => {
    if (!g.visible) return;
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "group-item";
    button.dataset.groupId = g.number;
    button.setAttribute("aria-pressed", String(state.selected === g.number));
    const cmp = g.compare ? '<span class="badge cmp-' + g.compare + '">' + esc(T("map.wb.cmp." + g.compare)) + "</span>" : "";
    button.innerHTML = '<span class="swatch"></span><span class="title">' + esc(groupTitle(g)) +
      (g.status !== "proposed" ? '<span class="badge ' + esc(g.status) + '">' + esc(T("map.status." + g.status)) + "</span>" : "") +
      cmp + (g.locked ? '<span class="badge locked">' + esc(T("map.ed.locked_badge")) + "</span>" : "") +
      (g.edited_at ? '<span class="badge edited">' + esc(T("map.ed.edited_badge")) + "</span>" : "") +
      '</span><span class="facts">' + esc(T("map.wb.group_facts", { n: g.members.length,
        km: km(g.diameter_km), place: g.place })) + '</span><span class="why">' + esc(g.explanation || "") + "</span>";
    const swatch = button.querySelector(".swatch");
    swatch.textContent = String(g.number);
    swatch.style.background = g.colour; // CSSOM: allowed by the CSP
    button.addEventListener("click", () => onSelect(g.number));
    button.addEventListener("keydown", moveFocus);
    li.appendChild(button);
    list.appendChild(li);
  });
  if (!list.children.length) {
    const empty = document.createElement("li");
    empty.className = "hint";
    empty.textContent = T("map.no_match");
    list.appendChild(empty);
  }
}

function moveFocus(event) {
  const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
  if (!step) return;
  const buttons = Array.prototype.slice.call(document.querySelectorAll(".group-item"));
  const next = buttons[buttons.indexOf(event.target) + step];
  if (next) { next.focus(); event.preventDefault(); }
}

export function renderUnassignedList(onPick) {
  const list = el("unassigned-list");
  list.textContent = "";
  state.unassigned.forEach((u) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link unassigned-item";
    button.dataset.externalId = u.external_id;
    button.textContent = firmName(u) + " — " + (u.reason_label || u.reason || T("map.no_reason"));
    button.addEventListener("click", () => onPick(u.external_id));
    li.appendChild(button);
    list.appendChild(li);
  });
  el("unassigned-count").textContent = "(" + state.unassigned.length + ")";
}

// --- summary per province and gemeente ------------------------------------------------------

function tally(key) {
  const rows = {};
  const row = (name) => (rows[name] = rows[name] || { groups: 0, placed: 0, unassigned: 0 });
  state.groups.forEach((g) => {
    const count = {};
    g.members.forEach((m) => {
      const name = m[key] || "?";
      count[name] = (count[name] || 0) + 1;
      row(name).placed += 1;
    });
    const home = Object.keys(count).sort((a, b) => count[b] - count[a] || a.localeCompare(b))[0];
    if (home) row(home).groups += 1;
  });
  state.unassigned.forEach((u) => { row(u[key] || "?").unassigned += 1; });
  return rows;
}

function summaryTable(table, head, rows) {
  const names = Object.keys(rows).sort((a, b) => rows[b].placed - rows[a].placed || a.localeCompare(b));
  table.innerHTML = "<thead><tr><th scope='col'>" + esc(head) + "</th><th scope='col'>" +
    esc(T("map.wb.summary.groups")) + "</th><th scope='col'>" + esc(T("map.wb.summary.placed")) +
    "</th><th scope='col'>" + esc(T("map.wb.summary.unassigned")) + "</th></tr></thead>";
  const body = document.createElement("tbody");
  names.forEach((name) => {
    const r = rows[name];
    const tr = document.createElement("tr");
    [name, r.groups, r.placed, r.unassigned].forEach((v, i) => {
      const cell = document.createElement(i ? "td" : "th");
      if (!i) cell.scope = "row";
      cell.textContent = String(v);
      tr.appendChild(cell);
    });
    body.appendChild(tr);
  });
  table.appendChild(body);
}

export function renderSummary() {
  summaryTable(el("summary-province"), T("map.filter_province"), tally("province"));
  summaryTable(el("summary-gemeente"), T("map.wb.filter_gemeente"), tally("gemeente_name"));
}

// --- search -------------------------------------------------------------------------------

let kvkIndex = null; // KvK number -> external id, read from GET api/v1/firms on first use

function loadKvk() {
  if (kvkIndex) return Promise.resolve(kvkIndex);
  const index = {};
  const page = (offset) => api("api/v1/firms?limit=1000&offset=" + offset).then((body) => {
    body.items.forEach((f) => { if (f.kvk_number) index[f.kvk_number] = f.external_id; });
    return offset + body.items.length < body.total ? page(offset + body.items.length) : index;
  });
  return page(0).then((done) => { kvkIndex = done; return done; });
}

function everyFirm() {
  const all = [];
  state.groups.forEach((g) => g.members.forEach((m) => all.push({ firm: m, group: g })));
  state.unassigned.forEach((u) => all.push({ firm: u, group: null }));
  return all;
}

export function search(text, onResult) {
  const query = text.trim().toLowerCase();
  const list = el("search-results");
  list.textContent = "";
  if (query.length < 2) return Promise.resolve([]);
  const compact = query.replace(/\s+/g, "");
  const isKvk = /^\d{8}$/.test(compact);
  const kvk = isKvk && may("member") ? loadKvk() : Promise.resolve({});
  return kvk.then((index) => {
    const byKvk = index[compact];
    const hits = everyFirm().filter(({ firm }) => !firm.erased && (
      (firm.name || "").toLowerCase().indexOf(query) >= 0 ||
      (firm.postcode || "").toLowerCase().replace(/\s+/g, "").indexOf(compact) === 0 ||
      firm.external_id === byKvk)).slice(0, 12);
    hits.forEach(({ firm, group }) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link search-hit";
      button.dataset.externalId = firm.external_id;
      button.textContent = firmName(firm) + " · " + [firm.postcode, firm.gemeente_name].filter(Boolean).join(", ") +
        " · " + (group ? T("map.wb.in_group", { number: group.number }) : T("map.wb.not_placed"));
      button.addEventListener("click", () => onResult(firm.external_id, group));
      li.appendChild(button);
      list.appendChild(li);
    });
    if (!hits.length) {
      const li = document.createElement("li");
      li.className = "hint";
      li.textContent = isKvk && !may("member") ? T("map.wb.kvk_needs_member") : T("map.wb.no_hits");
      list.appendChild(li);
    }
    return hits;
  });
}

// --- the group card ---------------------------------------------------------------------------

export function showDetail(g) {
  el("detail-title").textContent = groupTitle(g);
  el("detail-meta").textContent = T("map.wb.detail_meta", { n: g.members.length, km: km(g.diameter_km),
    place: g.place, status: T("map.status." + g.status) }) +
    (g.score !== null && g.score !== undefined ? T("map.score", { score: decimal(g.score, 2) }) : "");
  renderExplanation(el("detail-explanation"), g);
  const body = document.querySelector("#member-table tbody");
  body.textContent = "";
  g.members.forEach((m) => {
    const tr = document.createElement("tr");
    tr.dataset.externalId = m.external_id;
    const cells = m.erased ? [T("map.erased"), "", ""] : [m.name || m.external_id,
      [m.postcode, m.gemeente_name].filter(Boolean).join(" "),
      m.employees === null || m.employees === undefined ? "" : String(m.employees)];
    cells.forEach((text) => {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    });
    const needs = document.createElement("td");
    (m.needs || []).forEach((code) => {
      const chip = document.createElement("span");
      chip.className = "chip" + (g.shared[code] ? " shared" : "");
      chip.textContent = needLabel(code);
      chip.title = needLabel(code);
      needs.appendChild(chip);
    });
    tr.appendChild(needs);
    body.appendChild(tr);
  });
  const decision = el("decision");
  decision.hidden = !may("manager");
  el("decision-state").textContent = g.status === "proposed" ? T("map.wb.undecided")
    : T("map.wb.decided", { status: T("map.status." + g.status), comment: g.decision_comment || "" });
  el("decision-comment").value = g.decision_comment || "";
  el("group-detail").hidden = false;
  el("why").hidden = true;
}

export function renderExplanation(box, g) {
  box.textContent = "";
  if (g.explanation) {
    const p = document.createElement("p");
    p.textContent = g.explanation;
    box.appendChild(p);
  }
  const d = g.details || {};
  const facts = [];
  if (d.shared_needs && d.shared_needs.length) {
    facts.push(T("map.shared_needs", { needs: d.shared_needs.slice(0, 5)
      .map((s) => needLabel(s.need) + " (" + s.count + ")").join(", ") }));
  }
  if (d.employees) facts.push(T("map.employees_range", { low: d.employees.min, high: d.employees.max }));
  if (d.sectors && d.sectors.length) {
    facts.push(T("map.sectors", { sectors: d.sectors.map((s) => s.section + " " + s.count).join(", ") }));
  }
  if (!facts.length) return;
  const ul = document.createElement("ul");
  facts.forEach((f) => { const li = document.createElement("li"); li.textContent = f; ul.appendChild(li); });
  box.appendChild(ul);
}

