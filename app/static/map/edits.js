// Hand edits from the group card (manager key): move, swap, remove, split, merge, lock.
// Every edit first runs as a dry run (POST api/v1/runs/{run}/edits?dry_run=true): the page
// shows the soft effects per changed group and any broken rule in words; "Toepassen" stores
// it (dry_run=false). "Toevoegen aan groep N" for an unassigned firm uses the same path.
import { T, decimal, km } from "./i18n.js";
import { api, explainError } from "./api.js";
import { state, el, may, firmName, groupTitle, showMessage } from "./state.js";

const KINDS = ["move", "swap", "remove", "split", "merge"];
const NEEDS = { move: ["firm", "to"], swap: ["firm", "to", "other"], remove: ["firm"],
  split: ["members"], merge: ["to"] };
const hooks = { applied: () => Promise.resolve() };

export function onApplied(callback) { hooks.applied = callback; }

function editsPath(dryRun) {
  return "api/v1/runs/" + encodeURIComponent(state.runId) + "/edits?dry_run=" + String(dryRun);
}

function node(tag, attrs, text) {
  const n = document.createElement(tag);
  Object.keys(attrs || {}).forEach((k) => {
    if (k === "className") n.className = attrs[k];
    else n.setAttribute(k, attrs[k]);
  });
  if (text !== undefined) n.textContent = text;
  return n;
}

function labelled(id, key, control) {
  const wrap = node("div", { className: "edit-field", "data-for": id });
  wrap.appendChild(node("label", { for: id }, T(key)));
  control.id = id;
  wrap.appendChild(control);
  return wrap;
}

function memberOptions(select, g) {
  select.textContent = "";
  g.members.forEach((m) => select.appendChild(new Option(firmName(m), m.external_id)));
}

function groupOptions(select, g) {
  select.textContent = "";
  state.groups.filter((o) => o.number !== g.number)
    .forEach((o) => select.appendChild(new Option(groupTitle(o), String(o.number))));
}

// The request of the form's current choices.
function request(g) {
  const kind = el("edit-kind").value;
  const to = Number(el("edit-to").value);
  const body = { kind: kind };
  if (NEEDS[kind].indexOf("firm") >= 0) body.firm = el("edit-firm").value;
  if (kind === "move" || kind === "merge") body.to_group = to;
  if (kind === "merge") body.group = g.number;
  if (kind === "swap") body.other_firm = el("edit-other").value;
  if (kind === "split") {
    body.group = g.number;
    body.members = Array.prototype.filter.call(el("edit-members").options, (o) => o.selected).map((o) => o.value);
  }
  return body;
}

function showFields() {
  const need = NEEDS[el("edit-kind").value];
  document.querySelectorAll("#edit-form .edit-field").forEach((f) => {
    const part = { "edit-firm": "firm", "edit-to": "to", "edit-other": "other", "edit-members": "members" }[f.dataset.for];
    f.hidden = part !== undefined && need.indexOf(part) < 0;
  });
  el("edit-preview").textContent = "";
}

function fillOther() {
  const other = state.groupById[Number(el("edit-to").value)];
  if (other) memberOptions(el("edit-other"), other);
}

// The group card's edit controls; empty for keys below manager.
export function renderEdits(g) {
  const box = el("detail-edits");
  box.textContent = "";
  if (!may("manager")) return;
  const marks = node("p", { className: "meta", id: "edit-marks" });
  marks.textContent = editMarks(g);
  box.appendChild(marks);
  const lock = node("button", { type: "button", id: "edit-lock" }, T(g.locked ? "map.ed.unlock" : "map.ed.lock"));
  lock.addEventListener("click", () => toggleLock(g, lock));
  const form = node("div", { id: "edit-form", className: "edit-form" });
  form.appendChild(node("h3", {}, T("map.ed.title")));
  const kind = node("select");
  KINDS.forEach((k) => kind.appendChild(new Option(T("map.ed.kind." + k), k)));
  form.appendChild(labelled("edit-kind", "map.ed.kind", kind));
  const firm = node("select");
  memberOptions(firm, g);
  form.appendChild(labelled("edit-firm", "map.ed.firm", firm));
  const members = node("select", { multiple: "multiple", size: "6" });
  memberOptions(members, g);
  form.appendChild(labelled("edit-members", "map.ed.members", members));
  const to = node("select");
  groupOptions(to, g);
  form.appendChild(labelled("edit-to", "map.ed.to_group", to));
  form.appendChild(labelled("edit-other", "map.ed.other_firm", node("select")));
  const check = node("button", { type: "button", id: "edit-check" }, T("map.ed.check"));
  const row = node("div", { className: "row" });
  row.appendChild(check);
  row.appendChild(lock);
  form.appendChild(row);
  form.appendChild(node("div", { id: "edit-preview", "aria-live": "polite" }));
  box.appendChild(form);
  kind.addEventListener("change", showFields);
  to.addEventListener("change", () => { fillOther(); el("edit-preview").textContent = ""; });
  [firm, members, el("edit-other")].forEach((s) => s.addEventListener("change", () => { el("edit-preview").textContent = ""; }));
  check.addEventListener("click", () => dryRun(request(g), el("edit-preview"), g.number));
  fillOther();
  showFields();
  form.hidden = !!g.locked;
  if (g.locked) box.appendChild(lock);
}

export function editMarks(g) {
  const parts = [];
  if (g.locked) parts.push(T("map.ed.locked_mark"));
  if (g.edited_at) parts.push(T("map.ed.edited_mark", { when: String(g.edited_at).slice(0, 16).replace("T", " ") }));
  return parts.join(" · ");
}

function toggleLock(g, button) {
  button.disabled = true;
  const path = "api/v1/runs/" + encodeURIComponent(state.runId) + "/groups/" + g.number + "/" + (g.locked ? "unlock" : "lock");
  return api(path, { method: "POST" })
    .then((answer) => {
      showMessage(T(answer.locked ? "map.ed.locked_done" : "map.ed.unlocked_done", { number: g.number }), "ok");
      return hooks.applied(g.number, null);
    })
    .catch((err) => showMessage(explainError(err)))
    .finally(() => { button.disabled = false; });
}

function numbers(n) {
  if (!n) return "—";
  return T("map.ed.numbers", { size: n.size, score: decimal(n.mean_affinity, 2),
    overlap: decimal(n.mean_need_jaccard, 2), km: km(n.diameter_km) });
}

// The dry run's answer: effects per changed group, broken rules, and the apply button.
function renderCheck(box, answer, body, keep) {
  box.textContent = "";
  const table = node("table", { className: "edit-effects" });
  const head = node("tr");
  ["map.ed.col.group", "map.ed.col.before", "map.ed.col.after"].forEach((k) => head.appendChild(node("th", { scope: "col" }, T(k))));
  table.appendChild(node("thead")).appendChild(head);
  const tbody = node("tbody");
  (answer.effects || []).forEach((e) => {
    const tr = node("tr", { "data-group": String(e.group) });
    tr.appendChild(node("th", { scope: "row" }, String(e.group)));
    tr.appendChild(node("td", {}, numbers(e.before)));
    tr.appendChild(node("td", {}, numbers(e.after)));
    tbody.appendChild(tr);
  });
  table.appendChild(tbody);
  box.appendChild(table);
  renderViolations(box, answer.violations || []);
  const apply = node("button", { type: "button", className: "good edit-apply" }, T("map.ed.apply"));
  apply.disabled = !answer.allowed;
  apply.addEventListener("click", () => applyEdit(body, box, apply, keep));
  box.appendChild(apply);
}

function renderViolations(box, violations) {
  if (!violations.length) {
    box.appendChild(node("p", { className: "edit-ok" }, T("map.ed.allowed")));
    return;
  }
  box.appendChild(node("p", { className: "edit-refused" }, T("map.ed.refused")));
  const ul = node("ul", { className: "violations" });
  violations.forEach((v) => ul.appendChild(node("li", { "data-rule": v.rule }, v.message)));
  box.appendChild(ul);
}

export function dryRun(body, box, keep) {
  box.textContent = T("map.ed.checking");
  const started = performance.now();
  return api(editsPath(true), { method: "POST", body: body })
    .then((answer) => {
      document.body.dataset.editDryRunMs = String(Math.round(performance.now() - started));
      renderCheck(box, answer, body, keep);
      return answer;
    })
    .catch((err) => { box.textContent = explainError(err); return null; });
}

function applyEdit(body, box, button, keep) {
  button.disabled = true;
  const started = performance.now();
  return fetchEdit(body).then((outcome) => {
    document.body.dataset.editApplyMs = String(Math.round(performance.now() - started));
    if (!outcome.applied) {
      box.textContent = "";
      renderViolations(box, outcome.violations || []);
      return null;
    }
    showMessage(T("map.ed.applied", { revision: outcome.revision }), "ok");
    return hooks.applied(keep, outcome);
  }).catch((err) => { box.textContent = explainError(err); });
}

// The stored edit, or {violations} when the server refuses it (422 rule-broken).
function fetchEdit(body) {
  return api(editsPath(false), { method: "POST", body: body }).catch((err) => {
    if (err.status === 422 && err.body && err.body.violations) return { violations: err.body.violations };
    throw err;
  });
}

// --- "Toevoegen aan groep N" for an unassigned firm -------------------------------------------

function distance(a, b) {
  const dx = (a[1] - b[1]) * Math.cos((a[0] * Math.PI) / 180);
  return Math.hypot(a[0] - b[0], dx);
}

function wants(u, g) {
  const needs = u.needs || [];
  return !!g.theme && needs.some((n) => n === g.theme || n.indexOf(g.theme + ".") === 0);
}

// Candidate groups: those the relaxation names, the nearest groups whose theme the firm
// asks for, then the nearest groups at all; at most six, none locked.
function candidates(u, answer) {
  const named = (answer && answer.options || []).map((o) => o.group).filter((n) => n && state.groupById[n]);
  const where = u.feature ? [u.feature.geometry.coordinates[1], u.feature.geometry.coordinates[0]] : null;
  const byDistance = where ? state.groups.filter((g) => !g.locked)
    .sort((a, b) => distance(a.centre, where) - distance(b.centre, where)) : [];
  const themed = byDistance.filter((g) => wants(u, g)).slice(0, 4).map((g) => g.number);
  const near = byDistance.slice(0, 2).map((g) => g.number);
  return named.concat(themed, near)
    .filter((n, i, all) => all.indexOf(n) === i && !state.groupById[n].locked).slice(0, 6);
}

export function offerAdd(u, answer) {
  const box = el("why-edits");
  box.textContent = "";
  if (!may("manager")) return Promise.resolve([]);
  box.appendChild(node("h3", {}, T("map.ed.add_title")));
  const list = node("ul", { id: "why-add-list" });
  box.appendChild(list);
  const status = node("p", { className: "meta", id: "why-add-status" }, T("map.ed.checking"));
  status.dataset.firm = u.external_id;
  box.appendChild(status);
  const tries = candidates(u, answer).map((number) => {
    const body = { kind: "add", firm: u.external_id, to_group: number };
    return api(editsPath(true), { method: "POST", body: body })
      .then((check) => ({ number: number, body: body, check: check }))
      .catch(() => null);
  });
  return Promise.all(tries).then((results) => {
    const done = results.filter(Boolean);
    done.forEach((r) => {
      const li = node("li", { "data-group": String(r.number) });
      if (r.check.allowed) {
        const button = node("button", { type: "button", className: "why-add" }, T("map.ed.add_to", { number: r.number }));
        const preview = node("div", { className: "why-add-preview" });
        button.addEventListener("click", () => { button.disabled = true; renderCheck(preview, r.check, r.body, r.number); });
        li.appendChild(button);
        li.appendChild(preview);
      } else {
        li.appendChild(node("span", {}, T("map.ed.add_refused", { number: r.number })));
        renderViolations(li, r.check.violations || []);
      }
      list.appendChild(li);
    });
    const legal = done.filter((r) => r.check.allowed).length;
    status.textContent = legal ? "" : T("map.ed.no_legal_add");
    status.dataset.done = "true";
    return done;
  });
}
