// Deciding from the map: accept or reject a group with a comment (manager key), and
// "waarom niet ingedeeld?" for an unassigned firm (its reason and the best single change).
import { T } from "./i18n.js";
import { api, explainError } from "./api.js";
import { state, el, firmName, showMessage } from "./state.js";

export function decide(g, verdict) {
  const comment = el("decision-comment").value.trim();
  const buttons = [el("accept"), el("reject")];
  buttons.forEach((b) => { b.disabled = true; });
  const path = "api/v1/runs/" + encodeURIComponent(state.runId) + "/groups/" + g.number + "/" + verdict;
  return api(path, { method: "POST", body: { comment: comment || null } })
    .then((answer) => {
      g.status = answer.status;
      g.decision_comment = answer.comment;
      showMessage(T("map.wb.decision_saved", { number: g.number, status: T("map.status." + g.status) }), "ok");
      return g;
    })
    .catch((err) => { showMessage(explainError(err)); return null; })
    .finally(() => buttons.forEach((b) => { b.disabled = false; }));
}

function optionText(option) {
  return option.description || option.setting;
}

// The card for one unassigned firm: the reason in words, then the relaxation advice.
export function whyNot(u, onGroup) {
  el("group-detail").hidden = true;
  el("why").hidden = false;
  el("why-firm").textContent = [firmName(u), u.postcode, u.gemeente_name].filter(Boolean).join(" · ");
  const reason = [u.reason_label, u.reason_explanation].filter(Boolean).join(": ");
  el("why-reason").textContent = (reason || T("map.no_reason")) + (u.rule ? " (" + u.rule + ")" : "");
  const box = el("why-advice");
  box.textContent = T("map.wb.why_loading");
  const path = "api/v1/runs/" + encodeURIComponent(state.runId) + "/unassigned/" +
    encodeURIComponent(u.external_id) + "/relaxation";
  return api(path).then((answer) => {
    box.textContent = "";
    const options = answer.options || [];
    const head = document.createElement("p");
    head.className = "advice";
    head.textContent = answer.advice ? T("map.wb.best_change", { advice: answer.advice }) : T("map.wb.no_change");
    box.appendChild(head);
    if (options.length > 1) {
      const title = document.createElement("p");
      title.className = "meta";
      title.textContent = T("map.wb.other_changes");
      box.appendChild(title);
      const ul = document.createElement("ul");
      options.slice(1).forEach((option) => {
        const li = document.createElement("li");
        if (option.group && state.groupById[option.group]) {
          const show = document.createElement("button");
          show.type = "button";
          show.className = "link";
          show.textContent = optionText(option);
          show.addEventListener("click", () => onGroup(option.group));
          li.appendChild(show);
        } else {
          li.textContent = optionText(option);
        }
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    if (answer.best && answer.best.group && state.groupById[answer.best.group]) {
      const show = document.createElement("button");
      show.type = "button";
      show.id = "why-show-group";
      show.textContent = T("map.wb.show_group", { number: answer.best.group });
      show.addEventListener("click", () => onGroup(answer.best.group));
      box.appendChild(show);
    }
    return answer;
  }).catch((err) => { box.textContent = explainError(err); });
}
