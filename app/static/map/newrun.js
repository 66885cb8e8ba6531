// Start a new run from a profile and follow it with a live progress bar
// (POST api/v1/runs, then GET api/v1/runs/{id} every second until it has ended).
import { T } from "./i18n.js";
import { api, explainError } from "./api.js";
import { el, may, showMessage } from "./state.js";

const ACTIVE = ["queued", "running"];

export function loadProfiles() {
  el("new-run-card").hidden = !may("member");
  if (!may("member")) return Promise.resolve();
  return api("api/v1/profiles").then((body) => {
    const select = el("profile-select");
    select.textContent = "";
    (body.items || []).forEach((p) => {
      select.appendChild(new Option(p.name + " (" + T("map.purpose." + p.purpose) + ")", String(p.id)));
    });
  }).catch(() => { el("new-run-card").hidden = true; });
}

// The bar and line of text for one RunRead.
export function showProgress(bar, text, run) {
  bar.value = run.status === "succeeded" ? 1 : run.progress || 0;
  const phase = run.phase ? T("progress.phase." + run.phase) : "";
  const placed = run.placed !== null && run.placed !== undefined ? T("map.wb.placed_so_far", { n: run.placed }) : "";
  text.textContent = T("map.wb.progress", { id: run.id, status: T("map.run_status." + run.status),
    percent: Math.round(100 * (bar.value || 0)), phase: phase, placed: placed });
}

// Poll a run every second; resolves with the final RunRead.
export function follow(runId, bar, text, isCurrent) {
  return new Promise((resolve, reject) => {
    const tick = () => api("api/v1/runs/" + encodeURIComponent(runId)).then((run) => {
      if (!isCurrent()) return resolve(null);
      showProgress(bar, text, run);
      if (ACTIVE.indexOf(run.status) >= 0) setTimeout(tick, 1000);
      else resolve(run);
    }).catch(reject);
    tick();
  });
}

export function startRun(onDone) {
  const body = { profile_id: Number(el("profile-select").value) };
  const limit = Number(el("time-limit").value);
  if (limit > 0) body.time_limit_s = limit;
  el("start-run").disabled = true;
  const box = el("new-run-progress");
  return api("api/v1/runs", { method: "POST", body: body }).then((run) => {
    box.hidden = false;
    document.body.dataset.newRun = String(run.id);
    return follow(run.id, el("new-run-bar"), el("new-run-text"), () => true);
  }).then((run) => { if (run) onDone(run); })
    .catch((err) => showMessage(explainError(err)))
    .finally(() => { el("start-run").disabled = false; });
}
