// The run's edit history (GET api/v1/runs/{run}/edits: who, when, what) and an accepted
// group's invitation pack (GET .../groups/{n}/invitation, .xlsx, .csv?dialect=excel-nl).
import { LANG, T } from "./i18n.js";
import { api, explainError, session } from "./api.js";
import { state, el, may, showMessage } from "./state.js";

function nameOf(externalId) {
  if (!externalId) return "";
  const u = state.unassignedById[externalId];
  if (u) return u.name || externalId;
  for (const g of state.groups) {
    const m = g.members.find((x) => x.external_id === externalId);
    if (m) return m.name || externalId;
  }
  return externalId;
}

// One stored edit in words: "Bakkerij X verplaatst naar groep 5".
export function describe(entry) {
  const r = entry.request || {};
  return T("map.ed.what." + entry.kind, { firm: nameOf(r.firm), other: nameOf(r.other_firm),
    group: r.group, to: r.to_group, n: (r.members || []).length });
}

export function loadHistory() {
  const list = el("history-list");
  if (!list || !state.runId) return Promise.resolve(null);
  return api("api/v1/runs/" + encodeURIComponent(state.runId) + "/edits").then((body) => {
    list.textContent = "";
    el("history-count").textContent = "(" + body.edits.length + ")";
    body.edits.slice().reverse().forEach((e) => {
      const li = document.createElement("li");
      li.dataset.revision = String(e.revision);
      const when = String(e.at).slice(0, 16).replace("T", " ");
      li.textContent = T("map.ed.history_line", { revision: e.revision, when: when, by: e.by, what: describe(e) });
      list.appendChild(li);
    });
    if (!body.edits.length) {
      const li = document.createElement("li");
      li.className = "hint";
      li.textContent = T("map.ed.no_history");
      list.appendChild(li);
    }
    return body;
  }).catch((err) => { list.textContent = explainError(err); return null; });
}

// --- the invitation pack -------------------------------------------------------------------

function groupPath(g) {
  return "api/v1/runs/" + encodeURIComponent(state.runId) + "/groups/" + g.number + "/invitation";
}

// A download with the key in its header (a plain link could not send it).
function download(path, name) {
  return fetch(path, { headers: { "X-API-Key": session.key, "Accept-Language": LANG } })
    .then((res) => {
      if (!res.ok) throw new Error("HTTP " + res.status);
      return res.blob();
    })
    .then((blob) => {
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = name;
      document.body.appendChild(a);
      a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    })
    .catch((err) => showMessage(explainError(err)));
}

export function renderInvitationButton(g) {
  const box = el("detail-invitation");
  box.textContent = "";
  if (g.status !== "accepted" || !may("member")) return;
  const button = document.createElement("button");
  button.type = "button";
  button.id = "invitation-open";
  button.textContent = T("map.ed.invitation");
  button.addEventListener("click", () => showInvitation(g, box));
  box.appendChild(button);
}

export function showInvitation(g, box) {
  box.textContent = T("map.ed.checking");
  return api(groupPath(g)).then((pack) => {
    box.textContent = "";
    const subject = document.createElement("p");
    subject.id = "invitation-subject";
    subject.className = "meta";
    subject.textContent = pack.subject;
    const text = document.createElement("textarea");
    text.id = "invitation-text";
    text.readOnly = true;
    text.rows = 10;
    text.value = pack.subject + "\n\n" + pack.text;
    text.setAttribute("aria-label", T("map.ed.invitation"));
    const row = document.createElement("div");
    row.className = "row";
    const copy = document.createElement("button");
    copy.type = "button";
    copy.id = "invitation-copy";
    copy.textContent = T("map.ed.copy");
    copy.addEventListener("click", () => {
      text.select();
      const done = () => showMessage(T("map.ed.copied"), "ok");
      if (navigator.clipboard) navigator.clipboard.writeText(text.value).then(done, () => { document.execCommand("copy"); done(); });
      else { document.execCommand("copy"); done(); }
    });
    row.appendChild(copy);
    const base = "run-" + state.runId + "-group-" + g.number + "-invitation";
    [["invitation-xlsx", "map.ed.xlsx", ".xlsx", base + ".xlsx"],
      ["invitation-csv", "map.ed.csv", ".csv?dialect=excel-nl", base + ".csv"]].forEach(([id, key, suffix, name]) => {
      const link = document.createElement("a");
      link.id = id;
      link.className = "button";
      link.href = groupPath(g) + suffix;
      link.textContent = T(key);
      link.addEventListener("click", (event) => { event.preventDefault(); download(link.href, name); });
      row.appendChild(link);
    });
    box.appendChild(subject);
    box.appendChild(text);
    box.appendChild(row);
    if (pack.note) {
      const note = document.createElement("p");
      note.className = "hint";
      note.textContent = pack.note;
      box.appendChild(note);
    }
    return pack;
  }).catch((err) => { box.textContent = explainError(err); return null; });
}
