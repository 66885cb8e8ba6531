/* kring map page: groups of a run on CBS boundaries, with filters and a group list.
 *
 * Data comes only from the kring API, with the caller's key in the X-API-Key header:
 *   GET api/v1/boundaries/{province,gemeente}   base layer (public CBS boundaries)
 *   GET api/v1/runs                             the run selector
 *   GET api/v1/needs                            labels for themes and needs
 *   GET api/v1/runs/{id}/groups                 groups, members, explanations, unassigned
 *   GET api/v1/runs/{id}/groups.geojson         firm points and group hulls
 *   GET api/v1/texts?lang=nl|en                 every label and message (the catalogue)
 * Dutch by default, English with ?lang=en; API answers come in the same language.
 * No tiles, no CDN: the page works offline.
 */
(function () {
  "use strict";

  var KEY_STORAGE = "kring.apiKey";
  // Colour-blind-safe colours (Okabe-Ito and Paul Tol), grey reserved for unassigned firms.
  var PALETTE = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
    "#882255", "#117733", "#DDCC77", "#AA4499", "#44AA99", "#332288",
  ];
  var GREY = "#8c8c8c";
  var MANY_GROUPS = 30; // above this, outlines of all groups at once are a tangle: off by default
  var LANG = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "nl";
  var TEXTS = {};
  // Hull outline per group status: proposed thin, accepted thick, rejected dashed.
  var HULL = {
    proposed: { weight: 1.5, dashArray: null },
    accepted: { weight: 3, dashArray: null },
    rejected: { weight: 1.5, dashArray: "5 5" },
  };
  var NL_BOUNDS = [[50.75, 3.35], [53.55, 7.23]];

  var state = {
    key: null,
    runs: [],
    runId: null,
    needs: {},   // code -> need
    themes: {},  // code -> theme
    groups: [],  // GroupRead + colour, layers, provinces
    groupById: {},
    unassigned: [],
    selected: null,
  };

  var el = function (id) { return document.getElementById(id); };

  // --- texts (GET api/v1/texts: the message catalogue) ---------------------------------

  // The catalogue text of key with {named} placeholders filled in (the key itself if absent).
  function T(key, params) {
    var text = TEXTS[key];
    if (text === undefined) return key;
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      var value = params ? params[name] : undefined;
      return value === undefined || value === null ? "" : String(value);
    });
  }

  function applyTexts() {
    document.documentElement.lang = LANG;
    document.querySelectorAll("[data-t]").forEach(function (node) {
      node.textContent = T(node.dataset.t);
    });
    document.querySelectorAll("[data-t-title]").forEach(function (node) {
      node.title = T(node.dataset.tTitle);
    });
    document.querySelectorAll("[data-t-aria-label]").forEach(function (node) {
      node.setAttribute("aria-label", T(node.dataset.tAriaLabel));
    });
  }

  function loadTexts() {
    return fetch("api/v1/texts?lang=" + LANG, { headers: { Accept: "application/json" } })
      .then(function (res) { return res.json(); })
      .then(function (body) { TEXTS = body.texts || {}; applyTexts(); });
  }

  function decimal(value, digits) {
    var text = Number(value).toFixed(digits);
    return LANG === "nl" ? text.replace(".", ",") : text;
  }

  function km(value) { return value === null || value === undefined ? "?" : decimal(value, 1); }

  var map = L.map("map", { zoomSnap: 0.25, minZoom: 6, maxZoom: 14, attributionControl: true });
  map.attributionControl.setPrefix(false);
  map.fitBounds(NL_BOUNDS);
  var layers = {
    hulls: L.layerGroup().addTo(map),
    firms: L.layerGroup().addTo(map),
    unassigned: L.layerGroup().addTo(map),
  };

  // --- HTTP ----------------------------------------------------------------------------

  function ApiError(status, title, detail) {
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.message = title + (detail ? ": " + detail : "");
  }

  function api(path) {
    var headers = { Accept: "application/json, application/geo+json, application/problem+json",
      "Accept-Language": LANG };
    if (state.key) headers["X-API-Key"] = state.key;
    return fetch(path, { headers: headers }).then(function (res) {
      if (res.ok) return res.json();
      return res.json().catch(function () { return {}; }).then(function (body) {
        throw new ApiError(res.status, body.title || res.statusText || "HTTP " + res.status,
          body.detail || "");
      });
    });
  }

  // --- messages ------------------------------------------------------------------------

  function showMessage(text) {
    var box = el("message");
    box.textContent = text;
    box.hidden = !text;
  }

  function setStatus(text) { el("status").textContent = text; }

  function explainError(err) {
    if (err.status === 401) return T("map.error.401", { detail: err.detail || err.title });
    if (err.status === 403) return T("map.error.403", { detail: err.detail || err.title });
    if (err instanceof ApiError) {
      return T("map.error.http", { status: err.status, message: err.message });
    }
    return T("map.error.network", { message: err && err.message ? err.message : err });
  }

  // --- base layer ----------------------------------------------------------------------

  function loadBoundaries() {
    return Promise.all([api("api/v1/boundaries/gemeente"), api("api/v1/boundaries/province")])
      .then(function (layersJson) {
        L.geoJSON(layersJson[0], {
          interactive: false,
          style: { color: "#8a94a0", weight: 0.6, fill: true, fillColor: "#fbfbf8", fillOpacity: 1 },
        }).addTo(map).bringToBack();
        L.geoJSON(layersJson[1], {
          interactive: false,
          style: { color: "#4b5560", weight: 2, fill: false },
        }).addTo(map);
        var provinces = layersJson[1].features.map(function (f) { return f.properties.name; });
        fillSelect(el("filter-province"), provinces.sort().map(function (n) { return [n, n]; }));
        layers.hulls.eachLayer(function (l) { l.bringToFront(); });
      });
  }

  // --- API key -------------------------------------------------------------------------

  function askForKey(text) {
    state.key = null;
    sessionStorage.removeItem(KEY_STORAGE);
    el("organisation").textContent = "";
    el("key-form").hidden = false;
    el("change-key").hidden = true;
    el("run-select").disabled = true;
    el("filters").disabled = true;
    showMessage(text || "");
    el("key-input").focus();
  }

  function useKey(key) {
    state.key = key;
    showMessage("");
    setStatus(T("map.loading_runs"));
    return Promise.all([api("api/v1/me"), api("api/v1/runs?limit=100"), api("api/v1/needs")])
      .then(function (answers) {
        sessionStorage.setItem(KEY_STORAGE, key);
        el("key-form").hidden = true;
        el("key-input").value = "";
        el("change-key").hidden = false;
        el("organisation").textContent = answers[0].organisation_name + " (" + answers[0].role + ")";
        loadNeeds(answers[2]);
        loadRuns(answers[1]);
      })
      .catch(function (err) {
        clearRun();
        askForKey(explainError(err));
        setStatus("");
      });
  }

  function loadNeeds(body) {
    (body.themes || []).forEach(function (t) { state.themes[t.code] = t; });
    (body.items || body.needs || []).forEach(function (n) { state.needs[n.code] = n; });
  }

  function needLabel(code) {
    var need = state.needs[code];
    var field = LANG === "en" ? "label_en" : "label_nl";
    if (need) return need[field];
    var theme = state.themes[code];
    if (theme) return theme[field];
    return code || "—";
  }

  // --- runs ----------------------------------------------------------------------------

  var ACTIVE = ["queued", "running"];

  function runLabel(run) {
    var when = (run.finished_at || run.created_at || "").slice(0, 16).replace("T", " ");
    var label = T("map.run_label", { id: run.id, purpose: T("map.purpose." + run.purpose),
      status: T("map.run_status." + run.status) });
    return label + (when ? " · " + when : "");
  }

  function loadRuns(body) {
    state.runs = Array.isArray(body) ? body : body.items || body.runs || [];
    var select = el("run-select");
    select.textContent = "";
    if (!state.runs.length) {
      select.appendChild(new Option(T("map.no_runs_option"), ""));
      setStatus(T("map.no_runs"));
      return;
    }
    var firstDone = null;
    var firstActive = null;
    state.runs.forEach(function (run) {
      var option = new Option(runLabel(run), String(run.id));
      option.disabled = run.status !== "succeeded" && ACTIVE.indexOf(run.status) < 0;
      select.appendChild(option);
      if (run.status === "succeeded" && firstDone === null) firstDone = run.id;
      if (ACTIVE.indexOf(run.status) >= 0 && firstActive === null) firstActive = run.id;
    });
    select.disabled = false;
    var wanted = Number(new URLSearchParams(location.search).get("run")) ||
      (firstDone !== null ? firstDone : firstActive);
    if (wanted === null) {
      setStatus(T("map.no_finished_run"));
      return;
    }
    select.value = String(wanted);
    selectRun(wanted);
  }

  function knownRun(runId) {
    return state.runs.filter(function (r) { return r.id === runId; })[0] || null;
  }

  // A queued or running run: show its progress every 2 s and draw it once it succeeded.
  function watchRun(runId) {
    api("api/v1/runs/" + encodeURIComponent(runId)).then(function (run) {
      if (state.runId !== runId) return;
      var known = knownRun(runId);
      if (known) Object.assign(known, run);
      else state.runs.push(run);
      var option = el("run-select").querySelector('option[value="' + runId + '"]');
      if (option) option.textContent = runLabel(run);
      if (run.status === "succeeded") {
        selectRun(runId);
      } else if (ACTIVE.indexOf(run.status) >= 0) {
        setStatus(T("map.run_progress", { id: runId, status: T("map.run_status." + run.status),
          percent: Math.round(100 * run.progress) }));
        state.watch = setTimeout(function () { watchRun(runId); }, 2000);
      } else {
        setStatus(T("map.run_ended", { id: runId, status: T("map.run_status." + run.status),
          error: run.error ? ": " + run.error : "" }));
      }
    }).catch(function (err) {
      if (err.status === 401) askForKey(explainError(err));
      else showMessage(explainError(err));
    });
  }

  function clearRun() {
    clearTimeout(state.watch);
    delete document.body.dataset.run;
    layers.hulls.clearLayers();
    layers.firms.clearLayers();
    layers.unassigned.clearLayers();
    state.groups = [];
    state.groupById = {};
    state.unassigned = [];
    state.selected = null;
    el("group-list").textContent = "";
    el("unassigned-list").textContent = "";
    el("group-count").textContent = "";
    el("unassigned-count").textContent = "";
    el("group-detail").hidden = true;
  }

  function selectRun(runId) {
    clearRun();
    state.runId = runId;
    var known = knownRun(runId);
    if (!known || known.status !== "succeeded") return watchRun(runId);
    setStatus(T("map.loading_run", { id: runId }));
    var base = "api/v1/runs/" + encodeURIComponent(runId);
    return Promise.all([api(base + "/groups"), api(base + "/groups.geojson?unassigned=true")])
      .then(function (answers) {
        if (state.runId !== runId) return;
        buildRun(answers[0], answers[1]);
      })
      .catch(function (err) {
        if (err.status === 401) askForKey(explainError(err));
        else showMessage(explainError(err));
        setStatus("");
      });
  }

  // --- one run: data model -------------------------------------------------------------

  function buildRun(body, geojson) {
    var firmFeatures = {};
    var hullFeatures = {};
    var loosePoints = [];
    geojson.features.forEach(function (f) {
      var p = f.properties || {};
      if (f.geometry && f.geometry.type === "Point") {
        if (p.group_number === null || p.group_number === undefined) loosePoints.push(f);
        else (firmFeatures[p.group_number] = firmFeatures[p.group_number] || []).push(f);
      } else if (f.geometry) {
        hullFeatures[p.group_number] = f;
      }
    });
    state.groups = body.groups.map(function (g) {
      var points = firmFeatures[g.number] || [];
      var byExternal = {};
      points.forEach(function (f) { byExternal[f.properties.external_id] = f.properties; });
      var members = g.members.map(function (m) {
        var p = byExternal[m.external_id] || {};
        return Object.assign({}, p, m);
      });
      var provinces = {};
      members.forEach(function (m) { if (m.province) provinces[m.province] = true; });
      return Object.assign({}, g, {  // a group is known by its number in the run
        id: g.number, members: members, points: points, hull: hullFeatures[g.number] || null,
        provinces: provinces, layers: [],
      });
    });
    assignColours(state.groups);
    state.groups.forEach(function (g) { state.groupById[g.id] = g; });
    state.unassigned = joinUnassigned(body.unassigned || [], loosePoints);
    fillNeedFilter();
    el("show-hulls").checked = state.groups.length <= MANY_GROUPS;
    el("filters").disabled = false;
    drawGroups();
    drawUnassigned();
    applyFilters();
    var bounds = L.latLngBounds([]);
    state.groups.forEach(function (g) { g.layers.forEach(function (l) { bounds.extend(layerBounds(l)); }); });
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], animate: false });
    document.body.dataset.run = String(state.runId);
  }

  function joinUnassigned(rows, points) {
    var byExternal = {};
    points.forEach(function (f) { byExternal[f.properties.external_id] = f; });
    return rows.map(function (row) {
      var f = byExternal[row.external_id];
      return Object.assign({}, f ? f.properties : {}, row, { feature: f || null });
    });
  }

  function centroid(g) {
    var lat = 0, lon = 0;
    g.points.forEach(function (f) { lon += f.geometry.coordinates[0]; lat += f.geometry.coordinates[1]; });
    var n = Math.max(g.points.length, 1);
    return [lat / n, lon / n];
  }

  // Greedy colouring: each group avoids the colours of its nearest already-coloured groups.
  function assignColours(groups) {
    var done = [];
    groups.forEach(function (g) {
      var c = centroid(g);
      var near = done.map(function (o) {
        var d = Math.pow(o.c[0] - c[0], 2) + Math.pow((o.c[1] - c[1]) * 0.6, 2);
        return { d: d, colour: o.colour };
      }).sort(function (a, b) { return a.d - b.d; }).slice(0, PALETTE.length - 1);
      var taken = near.map(function (o) { return o.colour; });
      var free = PALETTE.filter(function (p) { return taken.indexOf(p) < 0; });
      g.colour = free.length ? free[0] : PALETTE[done.length % PALETTE.length];
      done.push({ c: c, colour: g.colour });
    });
  }

  // --- drawing -------------------------------------------------------------------------

  function layerBounds(layer) {
    return layer.getBounds ? layer.getBounds() : L.latLngBounds([layer.getLatLng()]);
  }

  function drawGroups() {
    state.groups.forEach(function (g) {
      if (g.hull) {
        var hull = L.geoJSON(g.hull, {
          style: Object.assign({
            color: g.colour, opacity: 0.8, fillColor: g.colour, fillOpacity: 0.08,
            className: "kring-hull",
          }, HULL[g.status] || HULL.proposed),
        });
        hull.on("click", function () { selectGroup(g.id); });
        hull.bindTooltip(groupTitle(g), { sticky: true });
        g.hullLayer = hull;
        g.layers.push(hull);
      }
      g.points.forEach(function (f) {
        var p = f.properties;
        var marker = L.circleMarker([f.geometry.coordinates[1], f.geometry.coordinates[0]], {
          radius: 5, color: "#ffffff", weight: 1, fillColor: g.colour, fillOpacity: 0.95,
          className: "kring-firm",
        });
        marker.bindPopup(firmPopup(p, g));
        g.layers.push(marker);
      });
    });
  }

  function drawUnassigned() {
    var list = el("unassigned-list");
    state.unassigned.forEach(function (u) {
      var li = document.createElement("li");
      li.textContent = (u.name || u.external_id || T("map.erased_firm")) + " — " + reasonText(u);
      list.appendChild(li);
      if (!u.feature) return;
      var c = u.feature.geometry.coordinates;
      u.marker = L.circleMarker([c[1], c[0]], {
        radius: 4, color: "#ffffff", weight: 1, fillColor: GREY, fillOpacity: 0.9,
        className: "kring-unassigned",
      });
      u.marker.bindPopup(firmPopup(u, null));
    });
    el("unassigned-count").textContent = "(" + state.unassigned.length + ")";
  }

  // The reason's label from the API (and the failed rule of an ineligible firm).
  function reasonText(u) {
    var label = u.reason_label || u.reason || T("map.no_reason");
    return u.rule ? label + ": " + u.rule : label;
  }

  function esc(text) {
    var span = document.createElement("span");
    span.textContent = text === null || text === undefined ? "" : String(text);
    return span.innerHTML;
  }

  function firmPopup(p, g) {
    var lines = ["<strong>" + esc(p.name || p.external_id || T("map.erased_firm")) + "</strong>"];
    if (p.gemeente_name) lines.push(esc(p.gemeente_name) + (p.province ? ", " + esc(p.province) : ""));
    if (p.employees !== null && p.employees !== undefined) lines.push(esc(T("map.employees", { n: p.employees })));
    if (p.needs && p.needs.length) {
      lines.push(esc(T("map.needs", { needs: p.needs.map(needLabel).join(", ") })));
    }
    if (g) lines.push(esc(T("map.group_of", { number: g.number, theme: needLabel(g.theme) })));
    else lines.push(esc(T("map.unassigned_reason", { reason: reasonText(p) })));
    return lines.join("<br>");
  }

  function groupTitle(g) {
    return T("map.group_title", { number: g.number, theme: needLabel(g.theme) });
  }

  // --- filters -------------------------------------------------------------------------

  function fillSelect(select, pairs) {
    var keep = select.options[0];
    select.textContent = "";
    select.appendChild(keep);
    pairs.forEach(function (pair) { select.appendChild(new Option(pair[1], pair[0])); });
  }

  function fillNeedFilter() {
    var select = el("filter-need");
    var keep = select.options[0];
    select.textContent = "";
    select.appendChild(keep);
    var byTheme = {};
    state.groups.forEach(function (g) {
      if (!g.theme) return;
      var theme = g.theme.split(".")[0];
      (byTheme[theme] = byTheme[theme] || {})[g.theme] = true;
    });
    Object.keys(byTheme).sort().forEach(function (theme) {
      var optgroup = document.createElement("optgroup");
      optgroup.label = needLabel(theme);
      optgroup.appendChild(new Option(T("map.all_of", { theme: needLabel(theme) }), theme));
      Object.keys(byTheme[theme]).sort().forEach(function (code) {
        if (code !== theme) optgroup.appendChild(new Option(needLabel(code), code));
      });
      select.appendChild(optgroup);
    });
  }

  function groupVisible(g) {
    var need = el("filter-need").value;
    var province = el("filter-province").value;
    var statuses = Array.prototype.filter.call(
      document.querySelectorAll("input[name=status]"), function (i) { return i.checked; }
    ).map(function (i) { return i.value; });
    if (need && !(g.theme === need || (g.theme || "").split(".")[0] === need)) return false;
    if (province && !g.provinces[province]) return false;
    return statuses.indexOf(g.status) >= 0;
  }

  function applyFilters() {
    var shown = 0;
    layers.firms.clearLayers();
    state.groups.forEach(function (g) {
      g.visible = groupVisible(g);
      if (!g.visible) return;
      shown += 1;
      g.layers.forEach(function (l) { if (l !== g.hullLayer) layers.firms.addLayer(l); });
    });
    syncHulls();
    var province = el("filter-province").value;
    layers.unassigned.clearLayers();
    if (el("show-unassigned").checked) {
      state.unassigned.forEach(function (u) {
        if (u.marker && !(province && u.province !== province)) layers.unassigned.addLayer(u.marker);
      });
    }
    renderGroupList();
    el("group-count").textContent = T("map.count_of", { shown: shown, total: state.groups.length });
    setStatus(T("map.run_summary", { id: state.runId, groups: state.groups.length,
      unassigned: state.unassigned.length }));
    if (state.selected && !state.groupById[state.selected].visible) closeDetail();
  }

  // Hulls of the visible groups; with "outline every group" off, only the selected one.
  function syncHulls() {
    var every = el("show-hulls").checked;
    layers.hulls.clearLayers();
    state.groups.forEach(function (g) {
      if (g.hullLayer && g.visible && (every || g.id === state.selected)) {
        layers.hulls.addLayer(g.hullLayer);
      }
    });
  }

  // --- group list and detail -----------------------------------------------------------

  function explanationText(explanation) {
    if (!explanation) return "";
    if (typeof explanation === "string") return explanation;
    return explanation.summary || explanation.text || explanation.why || "";
  }

  function renderGroupList() {
    var list = el("group-list");
    list.textContent = "";
    state.groups.forEach(function (g) {
      if (!g.visible) return;
      var li = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "group-item";
      button.dataset.groupId = g.id;
      button.setAttribute("aria-pressed", String(state.selected === g.id));
      button.innerHTML =
        '<span class="swatch"></span>' +
        '<span class="title">' + esc(groupTitle(g)) +
        (g.status !== "proposed" ? '<span class="badge ' + esc(g.status) + '">' + esc(T("map.status." + g.status)) + "</span>" : "") +
        "</span>" +
        '<span class="facts">' + esc(T("map.group_facts", { n: g.members.length,
          km: km(g.diameter_km), status: T("map.status." + g.status) })) + "</span>" +
        '<span class="why">' + esc(explanationText(g.explanation)) + "</span>";
      button.querySelector(".swatch").style.background = g.colour;  // CSSOM: allowed by the CSP
      button.addEventListener("click", function () { selectGroup(g.id); });
      button.addEventListener("keydown", moveFocus);
      li.appendChild(button);
      list.appendChild(li);
    });
    if (!list.children.length) {
      var empty = document.createElement("li");
      empty.className = "hint";
      empty.textContent = T("map.no_match");
      list.appendChild(empty);
    }
  }

  function moveFocus(event) {
    var step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (!step) return;
    var buttons = Array.prototype.slice.call(document.querySelectorAll(".group-item"));
    var next = buttons[buttons.indexOf(event.target) + step];
    if (next) { next.focus(); event.preventDefault(); }
  }

  function selectGroup(groupId) {
    var g = state.groupById[groupId];
    if (!g) return;
    state.selected = groupId;
    document.querySelectorAll(".group-item").forEach(function (b) {
      b.setAttribute("aria-pressed", String(Number(b.dataset.groupId) === groupId));
    });
    syncHulls();
    emphasise(groupId);
    var bounds = L.latLngBounds([]);
    g.layers.forEach(function (l) { bounds.extend(layerBounds(l)); });
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 11 });
    showDetail(g);
  }

  function showDetail(g) {
    el("detail-title").textContent = groupTitle(g);
    el("detail-meta").textContent = T("map.detail_meta", { n: g.members.length,
      km: km(g.diameter_km), status: T("map.status." + g.status) }) +
      (g.score !== null && g.score !== undefined ? T("map.score", { score: decimal(g.score, 2) }) : "");
    renderExplanation(el("detail-explanation"), g);
    var body = document.querySelector("#member-table tbody");
    body.textContent = "";
    g.members.forEach(function (m) {
      var tr = document.createElement("tr");
      var cells = m.erased ? [T("map.erased"), "", "", ""] : [
        m.name || m.external_id, m.gemeente_name || "",
        m.employees === null || m.employees === undefined ? "" : String(m.employees),
        (m.needs || []).map(needLabel).join(", "),
      ];
      cells.forEach(function (text) {
        var td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    el("group-detail").hidden = false;
    el("group-detail").scrollIntoView({ block: "nearest" });
  }

  function renderExplanation(box, g) {
    box.textContent = "";
    var text = explanationText(g.explanation);
    if (text) {
      var p = document.createElement("p");
      p.textContent = text;
      box.appendChild(p);
    }
    var d = g.details || {};
    var facts = [];
    if (d.shared_needs && d.shared_needs.length) {
      facts.push(T("map.shared_needs", { needs: d.shared_needs.map(function (s) {
        return needLabel(s.need) + " (" + s.count + ")";
      }).join(", ") }));
    }
    if (d.employees) {
      facts.push(T("map.employees_range", { low: d.employees.min, high: d.employees.max }));
    }
    if (d.sectors && d.sectors.length) {
      facts.push(T("map.sectors", { sectors: d.sectors.map(function (s) {
        return s.section + " " + s.count;
      }).join(", ") }));
    }
    if (d.diameter_pair && d.diameter_pair.length === 2) {
      facts.push(T("map.widest_pair", { pair: d.diameter_pair.join(" – ") }));
    }
    if (!facts.length) return;
    var ul = document.createElement("ul");
    facts.forEach(function (f) {
      var li = document.createElement("li");
      li.textContent = f;
      ul.appendChild(li);
    });
    box.appendChild(ul);
  }

  function closeDetail() {
    state.selected = null;
    el("group-detail").hidden = true;
    document.querySelectorAll(".group-item").forEach(function (b) {
      b.setAttribute("aria-pressed", "false");
    });
    syncHulls();
    emphasise(null);
  }

  // The selected group stands out; the others fade (null: all groups normal).
  function emphasise(groupId) {
    state.groups.forEach(function (o) {
      var chosen = groupId === null || o.id === groupId;
      if (o.hullLayer) {
        var base = HULL[o.status] || HULL.proposed;
        o.hullLayer.setStyle({
          weight: o.id === groupId ? base.weight + 2 : base.weight,
          opacity: o.id === groupId ? 1 : chosen ? 0.8 : 0.15,
          fillOpacity: o.id === groupId ? 0.25 : chosen ? 0.08 : 0.02,
        });
        if (o.id === groupId) o.hullLayer.bringToFront();
      }
      o.layers.forEach(function (l) {
        if (l !== o.hullLayer) {
          l.setStyle({ fillOpacity: chosen ? 0.95 : 0.2, opacity: chosen ? 1 : 0.2 });
          if (o.id === groupId) l.bringToFront();
        }
      });
    });
  }

  // --- wiring --------------------------------------------------------------------------

  var textsReady = loadTexts().catch(function () { /* the page keeps its built-in words */ });
  el("key-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var key = el("key-input").value.trim();
    if (key) textsReady.then(function () { useKey(key); });
  });
  el("change-key").addEventListener("click", function () { clearRun(); askForKey(""); });
  el("run-select").addEventListener("change", function (event) {
    if (event.target.value) selectRun(Number(event.target.value));
  });
  ["filter-need", "filter-province", "show-unassigned"].forEach(function (id) {
    el(id).addEventListener("change", applyFilters);
  });
  el("show-hulls").addEventListener("change", function () {
    syncHulls();
    emphasise(state.selected);
  });
  document.querySelectorAll("input[name=status]").forEach(function (i) {
    i.addEventListener("change", applyFilters);
  });
  el("detail-close").addEventListener("click", function () {
    var previous = state.selected;
    closeDetail();
    var button = document.querySelector('.group-item[data-group-id="' + previous + '"]');
    if (button) button.focus();
  });

  textsReady.then(function () {
    map.attributionControl.addAttribution(T("map.attribution"));
    loadBoundaries().catch(function (err) { showMessage(explainError(err)); });
    var stored = sessionStorage.getItem(KEY_STORAGE);
    if (stored) useKey(stored);
    else askForKey("");
  });
})();
