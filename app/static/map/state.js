// The werkbank's shared state and small helpers every module uses.
import { LANG, T } from "./i18n.js";

export const state = {
  me: null,          // GET api/v1/me
  runs: [],
  runId: null,
  needs: {},         // code -> need (labels)
  themes: {},
  groups: [],        // GroupRead + colour, layers, members joined with their GeoJSON points
  groupById: {},
  unassigned: [],
  unassignedById: {},
  selected: null,    // group number
  compare: null,     // the comparison on the map, or null
};

export const el = (id) => document.getElementById(id);

const RANK = { viewer: 0, member: 1, manager: 2, admin: 3 };
export function may(role) {
  return state.me !== null && (RANK[state.me.role] || 0) >= RANK[role];
}

export function esc(text) {
  const span = document.createElement("span");
  span.textContent = text === null || text === undefined ? "" : String(text);
  return span.innerHTML;
}

export function needLabel(code) {
  const field = LANG === "en" ? "label_en" : "label_nl";
  const need = state.needs[code] || state.themes[code];
  if (need) return need[field];
  return code || "";
}

// "Groep 7 · Vakopleiding (mbo)"; a group without a theme (peer) is named by its place.
export function groupTitle(g) {
  if (g.theme) return T("map.group_title", { number: g.number, theme: needLabel(g.theme) });
  return T("map.wb.group_title_place", { number: g.number, place: g.place || "" });
}

export function firmName(f) {
  return f.erased ? T("map.erased_firm") : f.name || f.external_id || T("map.erased_firm");
}

export function setStatus(text) { el("status").textContent = text; }

export function showMessage(text, kind) {
  const box = el("message");
  box.textContent = text || "";
  box.className = kind === "ok" ? "ok" : "";
  box.setAttribute("role", kind === "ok" ? "status" : "alert");
  box.hidden = !text;
}
