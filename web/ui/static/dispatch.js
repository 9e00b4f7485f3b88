/* The dispatcher's work: click the map (or type coordinates, WGS84 or GCJ-02/BD-09 as copied
 * from Chinese web maps) → the incident form → at once the ranked available teams with ETA,
 * distance and route, the depots covering the supplies (the split per depot), the nearest
 * open shelters with room → assign a team with one click. The Incidents tab lists incidents
 * with their teams (release, close); the team record gets Release and status change; a dragged
 * team marker is a move.
 *
 * Everything goes through the API (POST /api/dispatch, /collections/incidents/items,
 * /api/incidents/{id}/assign, /api/teams/{id}/…, GET /api/coordinates for GCJ-02/BD-09):
 * no analysis and no coordinate formula in this file. Text from the registry or a user only
 * ever goes in as text (Geo.el).
 *
 * For tests and the benchmark: performance marks "dispatch-click" (the map click),
 * "dispatch-sent" / "dispatch-answered" (the request), "teams-drawn" (the ranked list and the
 * routes are in the page), and body[data-dispatch-done] = how many answers were drawn.
 */
"use strict";

const Dispatch = {
  at: null,            // [lon, lat] WGS84 of the incident being dispatched
  incidentId: null,    // its record once created (the first assignment creates it)
  answer: null,        // the last POST /api/dispatch answer
  request: null,       // and the request that gave it
  seq: 0,              // requests sent; an answer of an older request is dropped
  drawn: 0,            // answers drawn (body[data-dispatch-done])
  marker: null,        // the incident's marker
  routes: {},          // "team|id" → polyline
  form: null,
  results: null,
  message: null,       // outcome of the last assignment (survives redraws)
  timer: null,
};

Dispatch.ROUTE_STYLE = {
  team: {color: "#1f6feb", weight: 4, opacity: 0.75},
  depot: {color: "#6a3d9a", weight: 3, opacity: 0.7, dashArray: "6 6"},
  shelter: {color: "#1a9850", weight: 3, opacity: 0.7, dashArray: "2 6"},
};
Dispatch.HIGHLIGHT = {weight: 8, opacity: 1};
Dispatch.DEFAULT_COUNT = 3;
Dispatch.SHELTERS = 3;
Dispatch.BUSY = ["assigned", "en_route", "on_scene", "returning"];

/* ---- the form ----------------------------------------------------------------------------- */

function choicesOf(layer, field) {
  const spec = Geo.fieldsOf(layer).find((f) => f.name === field);
  return (spec && spec.choices) || [];
}

function fieldError(name) {
  return Geo.el("div", {class: "field-error", dataset: {errorFor: name}});
}

Dispatch.build = function () {
  const tab = Geo.clear(document.getElementById("tab-dispatch"));
  const f = (name, attrs) => Object.assign({name, id: "dispatch-" + name}, attrs || {});
  const label = (name, text) => Geo.el("label", {for: "dispatch-" + name}, text);

  const crs = Geo.el("select", f("crs"),
    Geo.el("option", {value: "wgs84"}, _("WGS84 (GPS)")),
    Geo.el("option", {value: "gcj02"}, _("GCJ-02 (AutoNavi, Tencent)")),
    Geo.el("option", {value: "bd09"}, _("BD-09 (Baidu)")));
  const coords = Geo.el("fieldset", {class: "coords"},
    Geo.el("legend", {}, _("Where")),
    Geo.el("div", {class: "row"},
      Geo.el("div", {}, label("lon", _("Longitude")),
             Geo.el("input", f("lon", {type: "number", step: "any", min: -180, max: 180,
                                        inputmode: "decimal"})), fieldError("lon")),
      Geo.el("div", {}, label("lat", _("Latitude")),
             Geo.el("input", f("lat", {type: "number", step: "any", min: -90, max: 90,
                                        inputmode: "decimal"})), fieldError("lat"))),
    Geo.el("div", {class: "row"},
      Geo.el("div", {}, label("crs", _("Coordinates from")), crs, fieldError("crs")),
      Geo.el("div", {class: "bottom"},
             Geo.el("button", {type: "submit", id: "dispatch-locate", class: "primary"},
                    _("Locate")))),
    Geo.el("p", {class: "hint small"}, _("Click the map where the incident is, or type its coordinates.")));

  const types = Geo.el("select", f("type"),
    choicesOf("incidents", "type").map((key) => Geo.el("option", {value: key},
                                                         Geo.word("incident_types", key))));
  const severity = Geo.el("select", f("severity"),
    [1, 2, 3, 4].map((n) => Geo.el("option", {value: n, selected: n === 2},
                                   _("{n} of 4", {n}))));
  const what = Geo.el("fieldset", {},
    Geo.el("legend", {}, _("Incident")),
    label("name", _("Name")),
    Geo.el("input", f("name", {type: "text", maxlength: 200,
                               placeholder: _("e.g. barn fire at the mill")})), fieldError("name"),
    Geo.el("div", {class: "row"},
      Geo.el("div", {}, label("type", _("Type")), types, fieldError("type")),
      Geo.el("div", {}, label("severity", _("Severity")), severity, fieldError("severity"))));

  const teamRows = Geo.el("div", {id: "dispatch-needs", class: "rows"});
  const supplyRows = Geo.el("div", {id: "dispatch-supplies", class: "rows"});
  const needs = Geo.el("fieldset", {},
    Geo.el("legend", {}, _("Needs")),
    Geo.el("div", {class: "small"}, _("Teams: type and how many")),
    teamRows, fieldError("team_types"), fieldError("k"),
    Geo.el("button", {type: "button", class: "link", id: "dispatch-add-team",
                      onclick: () => { teamRows.append(Dispatch.teamRow("", 1)); Dispatch.changed(); }},
           _("+ team type")),
    Geo.el("div", {class: "small"}, _("Supplies: item and quantity")),
    supplyRows, fieldError("items"),
    Geo.el("button", {type: "button", class: "link", id: "dispatch-add-supply",
                      onclick: () => { supplyRows.append(Dispatch.supplyRow("", "")); }},
           _("+ supplies")),
    Geo.el("div", {class: "row"},
      Geo.el("div", {}, label("shelters", _("Shelters to list")),
             Geo.el("input", f("shelters", {type: "number", min: 0, max: 50, step: 1,
                                            value: Dispatch.SHELTERS})), fieldError("shelters"))));
  teamRows.append(Dispatch.teamRow("", Dispatch.DEFAULT_COUNT));

  const form = Geo.el("form", {id: "dispatch-form", novalidate: true, autocomplete: "off"},
    Geo.el("h2", {}, _("Dispatch")),
    coords, what, needs,
    Geo.el("div", {class: "form-error", dataset: {errorFor: "at"}}),
    Geo.el("div", {class: "actions"},
      Geo.el("button", {type: "button", id: "dispatch-new", onclick: () => Dispatch.reset()},
             _("New incident"))));
  form.addEventListener("submit", (e) => { e.preventDefault(); Dispatch.locate(); });
  // Needs, supplies and shelters re-run the search; what the incident is called does not.
  form.addEventListener("change", (e) => {
    if (["lon", "lat", "crs", "name", "type", "severity"].includes(e.target.name)) return;
    Dispatch.changed();
  });
  form.addEventListener("input", (e) => {
    if (e.target.type === "number" && !["lon", "lat"].includes(e.target.name)) {
      Dispatch.changed(400);
    }
  });
  Dispatch.form = form;
  Dispatch.message = Geo.el("div", {id: "dispatch-message", role: "alert", hidden: true});
  Dispatch.results = Geo.el("div", {id: "dispatch-results", "aria-live": "polite"});
  tab.append(form, Dispatch.message, Dispatch.results);
};

Dispatch.teamRow = function (type, count) {
  const select = Geo.el("select", {name: "need-type", "aria-label": _("Team type")},
    Geo.el("option", {value: ""}, _("any type")),
    choicesOf("teams", "type").map((key) => Geo.el("option", {value: key, selected: key === type},
                                                     Geo.word("team_types", key))));
  const row = Geo.el("div", {class: "need-row"}, select,
    Geo.el("input", {name: "need-count", type: "number", min: 1, max: 100, step: 1,
                     value: count, "aria-label": _("How many")}),
    Geo.el("button", {type: "button", class: "link remove", title: _("Remove"),
                      "aria-label": _("Remove"),
                      onclick: () => { row.remove(); Dispatch.changed(); }}, "×"));
  return row;
};

Dispatch.supplyRow = function (item, quantity) {
  const items = Object.keys((Geo.schemas && Geo.schemas.items) || {});
  const select = Geo.el("select", {name: "supply-item", "aria-label": _("Item")},
    Geo.el("option", {value: ""}, _("choose an item")),
    items.map((key) => Geo.el("option", {value: key, selected: key === item},
      Geo.itemName(key) + (Geo.schemas.items[key].unit ? " (" + Geo.schemas.items[key].unit + ")" : ""))));
  const row = Geo.el("div", {class: "supply-row"}, select,
    Geo.el("input", {name: "supply-quantity", type: "number", min: 0, step: "any",
                     value: quantity, "aria-label": _("Quantity")}),
    Geo.el("button", {type: "button", class: "link remove", title: _("Remove"),
                      "aria-label": _("Remove"),
                      onclick: () => { row.remove(); Dispatch.changed(); }}, "×"));
  return row;
};

/* The needs as typed: team types with counts (type "" = any), supplies. */
Dispatch.needs = function () {
  const form = Dispatch.form;
  const teams = [...form.querySelectorAll(".need-row")].map((row) => ({
    type: row.querySelector("[name=need-type]").value,
    count: Math.max(1, Math.round(Number(row.querySelector("[name=need-count]").value) || 1)),
  }));
  const supplies = {};
  for (const row of form.querySelectorAll(".supply-row")) {
    const item = row.querySelector("[name=supply-item]").value;
    const quantity = Number(row.querySelector("[name=supply-quantity]").value);
    if (item && quantity > 0) supplies[item] = (supplies[item] || 0) + quantity;
  }
  return {teams, supplies};
};

/* POST /api/dispatch's body for the incident at ``at``. */
Dispatch.body = function (at) {
  const needs = Dispatch.needs();
  const types = [...new Set(needs.teams.map((t) => t.type).filter(Boolean))];
  const k = needs.teams.length ? Math.max(...needs.teams.map((t) => t.count)) : Dispatch.DEFAULT_COUNT;
  const shelters = Number(Dispatch.form.elements.shelters.value);
  const body = {at, k: Math.min(100, k), team_types: types, items: needs.supplies,
                shelters: Number.isFinite(shelters) ? Math.max(0, Math.min(50, Math.round(shelters)))
                                                    : Dispatch.SHELTERS};
  if (Geo.barriers && Geo.barriers.features && Geo.barriers.features.length) {
    body.barriers = Geo.barriers;
  }
  return body;
};

/* ---- where the incident is ----------------------------------------------------------------- */

/* A map click: the incident is here, dispatch at once. */
Dispatch.click = function (latlng) {
  performance.mark("dispatch-click");
  Dispatch.newIncident();
  Dispatch.place(latlng.lng, latlng.lat, {fill: true});
  Dispatch.run({reveal: true});
};

Dispatch.newIncident = function () {
  Dispatch.incidentId = null;
  Dispatch.showMessage(null);
};

Dispatch.place = function (lon, lat, options) {
  Dispatch.at = [Number(lon.toFixed(7)), Number(lat.toFixed(7))];
  if (options && options.fill) {
    Dispatch.form.elements.lon.value = Dispatch.at[0];
    Dispatch.form.elements.lat.value = Dispatch.at[1];
    Dispatch.form.elements.crs.value = "wgs84";
  }
  const latlng = L.latLng(Dispatch.at[1], Dispatch.at[0]);
  if (!Dispatch.marker) {
    Dispatch.marker = L.marker(latlng, {draggable: true, zIndexOffset: 1000, keyboard: true,
      title: _("New incident (drag to move)"),
      icon: L.divIcon({className: "incident-icon dispatch-incident", iconSize: [22, 22]})});
    Dispatch.marker.on("add", () => {
      const node = Dispatch.marker.getElement();
      if (node) { node.textContent = "!"; node.dataset.testid = "dispatch-incident"; }
    });
    Dispatch.marker.on("dragend", () => {
      const moved = Dispatch.marker.getLatLng();
      Dispatch.newIncident();
      Dispatch.place(moved.lng, moved.lat, {fill: true});
      Dispatch.run();
    });
    Dispatch.marker.addTo(Geo.map);
  } else {
    Dispatch.marker.setLatLng(latlng);
    if (!Geo.map.hasLayer(Dispatch.marker)) Dispatch.marker.addTo(Geo.map);
  }
};

/* The typed coordinates: WGS84 as they are, GCJ-02/BD-09 converted by the service. */
Dispatch.locate = async function () {
  const form = Dispatch.form;
  Geo.clearErrors(form);
  const lon = form.elements.lon.value.trim();
  const lat = form.elements.lat.value.trim();
  const crs = form.elements.crs.value;
  for (const [name, value] of [["lon", lon], ["lat", lat]]) {
    if (value === "" || !isFinite(Number(value))) {
      Geo.formError(form, {field: name, message: _("Type a number.")});
      return;
    }
  }
  let point;
  try {
    point = await Geo.api("GET", "/api/coordinates?" + new URLSearchParams({lon, lat, crs}));
  } catch (err) {
    Geo.formError(form, err);
    return;
  }
  Dispatch.newIncident();
  Dispatch.place(point.lon, point.lat, {fill: false});
  if (crs !== "wgs84") {
    Dispatch.showMessage(_("{crs} {lon}, {lat} is WGS84 {wlon}, {wlat}.",
      {crs: form.elements.crs.selectedOptions[0].textContent, lon, lat,
       wlon: point.lon.toFixed(6), wlat: point.lat.toFixed(6)}), "info");
  }
  Geo.map.setView([point.lat, point.lon], Math.max(Geo.map.getZoom(), 14));
  Dispatch.run({reveal: true});
};

Dispatch.reset = function () {
  Dispatch.seq += 1;
  Dispatch.at = null;
  Dispatch.answer = null;
  Dispatch.newIncident();
  if (Dispatch.marker) Geo.map.removeLayer(Dispatch.marker);
  Geo.removeResult("routes");
  Dispatch.routes = {};
  Dispatch.form.reset();
  Geo.clearErrors(Dispatch.form);
  Geo.clear(Dispatch.form.querySelector("#dispatch-needs")).append(
    Dispatch.teamRow("", Dispatch.DEFAULT_COUNT));
  Geo.clear(Dispatch.form.querySelector("#dispatch-supplies"));
  Geo.clear(Dispatch.results);
};

/* ---- the search --------------------------------------------------------------------------- */

/* The form changed: search again (after ``delayMs`` of quiet, for typing). */
Dispatch.changed = function (delayMs) {
  if (!Dispatch.at) return;
  clearTimeout(Dispatch.timer);
  Dispatch.timer = setTimeout(() => Dispatch.run({unlessSame: true}), delayMs || 0);
};

/* Search from Dispatch.at with the form's needs; ``reveal``: scroll the panel to the answer
 * (a new incident: the teams are what the dispatcher looks for). */
Dispatch.run = async function (options) {
  if (!Dispatch.at) return;
  clearTimeout(Dispatch.timer);
  const body = Dispatch.body(Dispatch.at);
  // A typed value's "change" after its "input" already searched: nothing new to ask.
  if (options && options.unlessSame && Dispatch.request && Dispatch.answer &&
      JSON.stringify(body) === JSON.stringify(Dispatch.request)) return;
  const seq = ++Dispatch.seq;
  Geo.clearErrors(Dispatch.form);
  Dispatch.results.classList.add("loading");
  performance.mark("dispatch-sent");
  let answer;
  try {
    answer = await Geo.api("POST", "/api/dispatch", body);
  } catch (err) {
    if (seq !== Dispatch.seq) return;
    Dispatch.results.classList.remove("loading");
    Geo.clear(Dispatch.results);
    Geo.removeResult("routes");
    // The incident point is "at"; a field of the form otherwise.
    const field = err.field && err.field.split(".")[0];
    Geo.formError(Dispatch.form, Object.assign(err, {field: field === "at" ? "at" : field}));
    Dispatch.finish();
    return;
  }
  if (seq !== Dispatch.seq) return;  // a newer search is on its way
  performance.mark("dispatch-answered");
  Dispatch.answer = answer;
  Dispatch.request = body;
  Dispatch.results.classList.remove("loading");
  Dispatch.draw(answer, body);
  performance.mark("teams-drawn");
  if (options && options.reveal) Dispatch.reveal();
  Dispatch.finish();
};

Dispatch.reveal = function () {
  const tab = document.getElementById("tab-dispatch");
  if (tab.hidden) Geo.showTab("dispatch");
  const panel = document.getElementById("panel");
  const tabs = panel.querySelector(".tabs");
  const top = Dispatch.message.hidden ? Dispatch.results : Dispatch.message;
  panel.scrollTop += top.getBoundingClientRect().top - panel.getBoundingClientRect().top
    - (tabs ? tabs.offsetHeight : 0) - 4;
};

Dispatch.finish = function () {
  Dispatch.drawn += 1;
  document.body.dataset.dispatchDone = String(Dispatch.drawn);
};

/* ---- the answer --------------------------------------------------------------------------- */

Dispatch.REASON = {
  off_network: () => _("too far from any road"),
  island: () => _("on a road cut off from the network"),
  cut_off_by_hazard: () => _("every way is blocked by hazards or barriers"),
};

Dispatch.reason = function (reason) {
  return (Dispatch.REASON[reason] || (() => reason))();
};

Dispatch.draw = function (answer, body) {
  const box = Geo.clear(Dispatch.results);
  const group = L.featureGroup();
  Dispatch.routes = {};
  const addRoute = (kind, id, geometry, title) => {
    if (!geometry) return;
    const line = L.geoJSON(geometry, {style: () => Object.assign({}, Dispatch.ROUTE_STYLE[kind]),
                                      interactive: true});
    // A node, not a string: Leaflet would parse a string as HTML, and names are typed by users.
    line.bindTooltip(() => Geo.el("span", {}, title || id), {sticky: true});
    line.eachLayer((l) => { l.options.className = "route route-" + kind; });
    group.addLayer(line);
    Dispatch.routes[kind + "|" + id] = line;
  };

  // Where the incident is, and how far from a road.
  const head = Geo.el("div", {class: "dispatch-head"},
    Geo.el("strong", {}, _("Incident at {lon}, {lat}", {lon: answer.incident.lon.toFixed(5),
                                                       lat: answer.incident.lat.toFixed(5)})),
    Dispatch.incidentId
      ? Geo.el("span", {class: "small"}, " · ", _("recorded as {id}", {id: Dispatch.incidentId}))
      : null);
  box.append(head);
  if (answer.incident_status && answer.incident_status !== "ok") {
    box.append(Geo.el("p", {class: "warning", dataset: {testid: "incident-off-road"}},
      _("No route can be given: the incident is {m} m from the nearest road it can be reached by.",
        {m: Math.round(answer.incident_snap_m)})));
  } else if (answer.incident_snap_m > 50) {
    box.append(Geo.el("p", {class: "small"},
      _("Routed from the nearest road, {m} m from the point clicked.",
        {m: Math.round(answer.incident_snap_m)})));
  }
  // The server's note says the same as the line above when the incident is off the roads.
  const offRoad = answer.incident_status === "far";
  if (answer.note && !offRoad) box.append(Geo.el("p", {class: "warning note"}, answer.note));

  // Teams, ranked per type asked for (or all together).
  box.append(Geo.el("h3", {}, _("Teams")));
  const types = body.team_types.length ? body.team_types : [null];
  const canAssign = Geo.can("dispatch");
  for (const type of types) {
    const options = answer.teams.filter((t) => type === null || t.type === type);
    if (type !== null) box.append(Geo.el("h4", {}, Geo.word("team_types", type)));
    if (!options.length) {
      box.append(Geo.el("p", {class: "warning"}, type === null
        ? _("No available team can reach the incident.")
        : _("No available {type} team can reach the incident.", {type: Geo.word("team_types", type)})));
      continue;
    }
    const rows = options.map((team, i) => {
      addRoute("team", team.id, team.route, team.name);
      const status = Geo.el("span", {class: "team-status"});
      const row = Geo.el("tr", {class: "team-row", dataset: {team: team.id}},
        Geo.el("td", {class: "rank"}, String(i + 1)),
        Geo.el("td", {class: "name"}, Geo.el("div", {}, team.name || team.id),
               Geo.el("div", {class: "small"}, Geo.word("team_types", team.type),
                      team.headcount !== undefined ? " · " + _("{n} people", {n: team.headcount}) : "",
                      " ", status)),
        Geo.el("td", {class: "eta", title: _("turnout {t} + travel {d}",
          {t: Geo.minutes(team.turnout_s), d: Geo.minutes(team.travel_s)})}, Geo.minutes(team.eta_s)),
        Geo.el("td", {class: "distance"}, Geo.km(team.distance_m)),
        Geo.el("td", {}, canAssign ? Geo.el("button", {type: "button", class: "assign primary",
          dataset: {team: team.id}, onclick: (e) => Dispatch.assign(team, e.target)}, _("Assign")) : null));
      row.addEventListener("mouseenter", () => Dispatch.highlight("team", team.id, true));
      row.addEventListener("mouseleave", () => Dispatch.highlight("team", team.id, false));
      row.addEventListener("click", (e) => {
        if (e.target.tagName === "BUTTON") return;
        const line = Dispatch.routes["team|" + team.id];
        if (line) Geo.map.fitBounds(line.getBounds(), {padding: [30, 30], maxZoom: 16});
      });
      return row;
    });
    box.append(Geo.el("table", {class: "teams", dataset: {type: type || ""}},
      Geo.el("thead", {}, Geo.el("tr", {}, Geo.el("th", {}, "#"), Geo.el("th", {}, _("Team")),
        Geo.el("th", {}, _("ETA")), Geo.el("th", {}, _("Distance")), Geo.el("th", {}))),
      Geo.el("tbody", {}, rows)));
  }
  if (answer.unreachable_teams && answer.unreachable_teams.length) {
    box.append(Geo.el("div", {class: "unreachable", dataset: {testid: "unreachable-teams"}},
      Geo.el("strong", {}, _("Available but cannot reach the incident:")),
      Geo.el("ul", {}, answer.unreachable_teams.map((t) => Geo.el("li", {dataset: {team: t.id}},
        t.name || t.id, " — ", Dispatch.reason(t.reason),
        t.snap_m !== null && t.snap_m !== undefined && isFinite(t.snap_m)
          ? " " + _("({m} m from a road)", {m: Math.round(t.snap_m)}) : "")))));
  }

  // Supplies: the depots, what each sends, what nobody has.
  if (answer.supplies) Dispatch.drawSupplies(box, answer.supplies, addRoute);
  // Shelters with room.
  if (answer.shelters) Dispatch.drawShelters(box, answer.shelters, addRoute, body.shelters);

  if (answer.notes && answer.notes.length) {
    box.append(Geo.el("details", {class: "notes small"}, Geo.el("summary", {}, _("Notes")),
      answer.notes.map((n) => Geo.el("p", {}, n))));
  }
  Geo.addResult("routes", _("Routes"), group);
  Dispatch.markTaken();
};

Dispatch.drawSupplies = function (box, supplies, addRoute) {
  box.append(Geo.el("h3", {}, _("Supplies")));
  const allocation = supplies.allocation || [];
  const byDepot = new Map();
  for (const a of allocation) {
    if (!byDepot.has(a.depot)) byDepot.set(a.depot, []);
    byDepot.get(a.depot).push(a);
  }
  const unit = (item) => (Geo.schemas.items[item] && Geo.schemas.items[item].unit) || "";
  const amount = (item, q) => _("{item}: {q} {unit}", {item: Geo.itemName(item),
                                                       q: Number(q).toLocaleString(), unit: unit(item)}).trim();
  const sending = (supplies.depots || []).filter((d) => byDepot.has(d.id));
  if (sending.length) {
    box.append(Geo.el("table", {class: "depots"},
      Geo.el("thead", {}, Geo.el("tr", {}, Geo.el("th", {}, _("Depot")), Geo.el("th", {}, _("ETA")),
        Geo.el("th", {}, _("Sends")))),
      Geo.el("tbody", {}, sending.map((d) => {
        addRoute("depot", d.id, d.route, d.name);
        const row = Geo.el("tr", {class: "depot-row", dataset: {depot: d.id}},
          Geo.el("td", {}, d.name || d.id),
          Geo.el("td", {}, Geo.minutes(d.eta_s)),
          Geo.el("td", {}, byDepot.get(d.id).map((a) => Geo.el("div", {class: "split"},
                                                                 amount(a.item, a.quantity)))));
        row.addEventListener("mouseenter", () => Dispatch.highlight("depot", d.id, true));
        row.addEventListener("mouseleave", () => Dispatch.highlight("depot", d.id, false));
        return row;
      }))));
  } else if (!Object.keys(supplies.shortfall || {}).length) {
    box.append(Geo.el("p", {class: "small"}, _("No supplies asked for.")));
  }
  const shortfall = Object.entries(supplies.shortfall || {});
  if (shortfall.length) {
    box.append(Geo.el("p", {class: "warning", dataset: {testid: "shortfall"}},
      _("Short: no reachable depot holds"), " ",
      shortfall.map(([item, q]) => amount(item, q)).join(", ")));
  }
  if ((supplies.unreachable_depots || []).length) {
    box.append(Geo.el("div", {class: "unreachable"},
      Geo.el("strong", {}, _("Depots with stock that cannot be reached:")),
      Geo.el("ul", {}, supplies.unreachable_depots.map((d) => Geo.el("li", {},
        d.name || d.id, " — ", Dispatch.reason(d.reason))))));
  }
};

Dispatch.drawShelters = function (box, shelters, addRoute, asked) {
  if (!asked) return;
  box.append(Geo.el("h3", {}, _("Shelters with room")));
  if (!shelters.length) {
    box.append(Geo.el("p", {class: "warning"}, _("No open shelter with room can be reached on foot.")));
    return;
  }
  box.append(Geo.el("table", {class: "shelters"},
    Geo.el("thead", {}, Geo.el("tr", {}, Geo.el("th", {}, _("Shelter")),
      Geo.el("th", {}, _("On foot")), Geo.el("th", {}, _("Distance")),
      Geo.el("th", {}, _("Free places")))),
    Geo.el("tbody", {}, shelters.map((s) => {
      addRoute("shelter", s.id, s.route, s.name);
      const row = Geo.el("tr", {class: "shelter-row", dataset: {shelter: s.id}},
        Geo.el("td", {}, s.name || s.id), Geo.el("td", {}, Geo.minutes(s.walk_s)),
        Geo.el("td", {}, Geo.km(s.distance_m)),
        Geo.el("td", {}, s.free_capacity === null || s.free_capacity === undefined
          ? "–" : Number(s.free_capacity).toLocaleString()));
      row.addEventListener("mouseenter", () => Dispatch.highlight("shelter", s.id, true));
      row.addEventListener("mouseleave", () => Dispatch.highlight("shelter", s.id, false));
      return row;
    }))));
};

Dispatch.highlight = function (kind, id, on) {
  const line = Dispatch.routes[kind + "|" + id];
  if (!line) return;
  line.setStyle(on ? Object.assign({}, Dispatch.ROUTE_STYLE[kind], Dispatch.HIGHLIGHT)
                   : Dispatch.ROUTE_STYLE[kind]);
  if (on) line.bringToFront();
  line.eachLayer((l) => {
    const path = l.getElement && l.getElement();
    if (path) path.classList.toggle("highlighted", on);
  });
};

/* Rows of teams another dispatcher took since the answer came show the team's status now
 * (the Assign button stays: trying it tells who has the team). */
Dispatch.markTaken = function () {
  const teams = Geo.layers.teams;
  if (!teams || !Dispatch.results) return;
  for (const row of Dispatch.results.querySelectorAll("tr.team-row")) {
    const feature = teams.byId.get(row.dataset.team);
    const status = feature ? feature.properties.status : null;
    const taken = status && status !== "available";
    row.classList.toggle("taken", Boolean(taken));
    const badge = row.querySelector(".team-status");
    if (badge) badge.textContent = taken ? "· " + Geo.word("team_statuses", status) : "";
  }
};

/* ---- assigning ---------------------------------------------------------------------------- */

Dispatch.showMessage = function (text, kind) {
  const box = Dispatch.message;
  if (!box) return;
  Geo.clear(box);
  box.hidden = !text;
  box.className = kind || "";
  if (text) {
    box.append(Geo.el("span", {}, text),
      Geo.el("button", {type: "button", class: "link close", "aria-label": _("Close"),
                        onclick: () => Dispatch.showMessage(null)}, "×"));
  }
};

/* The incident's record: created from the form at the first assignment. */
Dispatch.record = async function () {
  if (Dispatch.incidentId) return Dispatch.incidentId;
  const form = Dispatch.form;
  const needs = Dispatch.needs();
  const teams = {};
  for (const t of needs.teams) if (t.type) teams[t.type] = (teams[t.type] || 0) + t.count;
  const properties = {type: form.elements.type.value, severity: Number(form.elements.severity.value),
                      needs: {teams, supplies: needs.supplies}};
  const name = form.elements.name.value.trim();
  if (name) properties.name = name;
  const made = await Geo.api("POST", "/collections/incidents/items",
    {type: "Feature", geometry: {type: "Point", coordinates: Dispatch.at}, properties},
    {contentType: "application/geo+json"});
  Dispatch.incidentId = made.id;
  return made.id;
};

Dispatch.holderText = function (err, teamName) {
  const holder = err.holder;
  if (!holder) return err.message;
  const when = holder.assigned_at ? new Date(holder.assigned_at) : null;
  const time = when && !isNaN(when) ? when.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"}) : "?";
  return _("{team} is already assigned to incident {incident} by {user} at {time}.",
           {team: teamName, incident: holder.incident, user: String(holder.assigned_by || "?").replace(/^web:/, ""),
            time});
};

Dispatch.assign = async function (team, button) {
  if (button) button.disabled = true;
  let incident;
  try {
    incident = await Dispatch.record();
  } catch (err) {
    if (button) button.disabled = false;
    if (!Geo.formError(Dispatch.form, Object.assign(err, {field: (err.field || "").split(".")[0]}))) {
      Geo.showError(err);
    }
    return;
  }
  try {
    const done = await Geo.api("POST", "/api/incidents/" + encodeURIComponent(incident) + "/assign",
                               {team: team.id});
    Dispatch.showMessage(_("{team} assigned to incident {incident}.",
                           {team: team.name || team.id, incident: done.incident}), "ok");
  } catch (err) {
    if (err.status === 409) {
      Dispatch.showMessage(Dispatch.holderText(err, team.name || team.id), "conflict");
    } else {
      if (button) button.disabled = false;
      Geo.showError(err);
      return;
    }
  }
  // Either way the map and the list show the teams as they are now.
  await Promise.all([Geo.loadLayer("teams"), Geo.loadLayer("incidents")]).catch(Geo.showError);
  await Dispatch.run();
};

/* ---- the Incidents tab -------------------------------------------------------------------- */

Dispatch.showClosed = false;

Dispatch.teamName = function (id) {
  const feature = Geo.layers.teams && Geo.layers.teams.byId.get(id);
  return feature ? (feature.properties.name || id) : id;
};

Dispatch.listIncidents = function () {
  const tab = document.getElementById("tab-incidents");
  if (!tab || !Geo.layers.incidents) return;
  const all = Geo.layers.incidents.features;
  const order = {open: 0, dispatched: 1, closed: 2};
  const shown = all.filter((f) => Dispatch.showClosed || f.properties.status !== "closed")
    .sort((a, b) => (order[a.properties.status] ?? 3) - (order[b.properties.status] ?? 3)
      || String(b.properties.reported_at || "").localeCompare(String(a.properties.reported_at || "")));
  Geo.clear(tab);
  const closed = all.length - all.filter((f) => f.properties.status !== "closed").length;
  tab.append(Geo.el("h2", {}, _("Incidents")),
    Geo.el("label", {class: "inline"},
      Geo.el("input", {type: "checkbox", id: "incidents-closed", checked: Dispatch.showClosed,
                       onchange: (e) => { Dispatch.showClosed = e.target.checked; Dispatch.listIncidents(); }}),
      " ", _("show closed ({n})", {n: closed})));
  if (!shown.length) {
    tab.append(Geo.el("p", {class: "hint"}, _("No open incidents.")));
    return;
  }
  const canDispatch = Geo.can("dispatch");
  tab.append(Geo.el("ul", {class: "incidents"}, shown.map((f) => {
    const p = f.properties;
    const teams = p.assigned_teams || [];
    const reported = p.reported_at ? new Date(p.reported_at) : null;
    return Geo.el("li", {class: "incident status-" + p.status, dataset: {incident: f.id}},
      Geo.el("button", {type: "button", class: "link incident-name", title: _("Show on the map"),
                        onclick: () => Dispatch.zoomTo(f)},
             p.name || Geo.word("incident_types", p.type)),
      Geo.el("div", {class: "small"},
        Geo.word("incident_types", p.type), " · ", _("severity {n}", {n: p.severity}), " · ",
        Geo.el("span", {class: "incident-status"}, Geo.word("incident_statuses", p.status)),
        reported && !isNaN(reported)
          ? " · " + reported.toLocaleString([], {dateStyle: "short", timeStyle: "short"}) : "",
        " · ", f.id),
      teams.length ? Geo.el("ul", {class: "assigned"}, teams.map((id) => Geo.el("li",
        {dataset: {team: id}}, Dispatch.teamName(id), " ",
        canDispatch ? Geo.el("button", {type: "button", class: "release",
          onclick: (e) => Dispatch.release(id, e.target)}, _("Release")) : null)))
        : Geo.el("div", {class: "small"}, _("no team assigned")),
      canDispatch && p.status !== "closed" ? Geo.el("div", {class: "actions"},
        Geo.el("button", {type: "button", class: "dispatch-more",
                          onclick: () => Dispatch.resume(f)}, _("Dispatch more")),
        Geo.el("button", {type: "button", class: "close-incident",
                          onclick: (e) => Dispatch.close(f, e.target)},
               teams.length ? _("Release teams and close") : _("Close"))) : null);
  })));
};

Dispatch.zoomTo = function (feature) {
  Geo.map.setView(Geo.anchor(feature), Math.max(Geo.map.getZoom(), 16));
};

/* Back to the Dispatch tab with this incident: more teams go to the same record. */
Dispatch.resume = function (feature) {
  const [lon, lat] = feature.geometry.type === "Point" ? feature.geometry.coordinates
    : [Geo.anchor(feature).lng, Geo.anchor(feature).lat];
  Geo.showTab("dispatch");
  const form = Dispatch.form;
  const p = feature.properties;
  form.elements.name.value = p.name || "";
  if (p.type) form.elements.type.value = p.type;
  if (p.severity) form.elements.severity.value = String(p.severity);
  const needs = p.needs || {};
  const rows = Geo.clear(form.querySelector("#dispatch-needs"));
  const teamNeeds = Object.entries(needs.teams || {});
  if (teamNeeds.length) teamNeeds.forEach(([t, n]) => rows.append(Dispatch.teamRow(t, n)));
  else rows.append(Dispatch.teamRow("", Dispatch.DEFAULT_COUNT));
  const supplies = Geo.clear(form.querySelector("#dispatch-supplies"));
  Object.entries(needs.supplies || {}).forEach(([i, q]) => supplies.append(Dispatch.supplyRow(i, q)));
  Dispatch.showMessage(null);
  Dispatch.place(lon, lat, {fill: true});
  Dispatch.incidentId = feature.id;
  Geo.map.setView([lat, lon], Math.max(Geo.map.getZoom(), 15));
  Dispatch.run();
};

Dispatch.release = async function (teamId, button) {
  if (button) button.disabled = true;
  try {
    await Geo.api("POST", "/api/teams/" + encodeURIComponent(teamId) + "/release", {});
    Geo.status(_("{team} released.", {team: Dispatch.teamName(teamId)}));
  } catch (err) {
    Geo.showError(err);
  }
  await Promise.all([Geo.loadLayer("teams"), Geo.loadLayer("incidents")]).catch(Geo.showError);
  if (Dispatch.at) Dispatch.run();
};

Dispatch.close = async function (feature, button) {
  if (button) button.disabled = true;
  const path = "/collections/incidents/items/" + encodeURIComponent(feature.id);
  try {
    for (const id of feature.properties.assigned_teams || []) {
      await Geo.api("POST", "/api/teams/" + encodeURIComponent(id) + "/release", {});
    }
    const current = await Geo.api("GET", path, null, {raw: true});
    await Geo.api("PATCH", path, {properties: {status: "closed"}},
                  {contentType: "application/merge-patch+json",
                   headers: {"If-Match": current.headers.get("ETag")}});
    Geo.status(_("Incident {id} closed.", {id: feature.id}));
    if (Dispatch.incidentId === feature.id) Dispatch.newIncident();
  } catch (err) {
    if (button) button.disabled = false;
    Geo.showError(err);
  }
  await Promise.all([Geo.loadLayer("teams"), Geo.loadLayer("incidents")]).catch(Geo.showError);
};

/* ---- teams: record actions and moves ------------------------------------------------------ */

Dispatch.teamActions = function (feature, container) {
  if (!Geo.can("dispatch")) return;
  const p = feature.properties;
  if (Dispatch.BUSY.includes(p.status)) {
    container.append(Geo.el("button", {type: "button", class: "release",
      onclick: (e) => Dispatch.release(feature.id, e.target)}, _("Release")));
  }
  const select = Geo.el("select", {name: "team-status", "aria-label": _("New status")},
    choicesOf("teams", "status").map((s) => Geo.el("option", {value: s, selected: s === p.status},
                                                     Geo.word("team_statuses", s))));
  const error = Geo.el("div", {class: "form-error"});
  container.append(Geo.el("div", {class: "team-status-change"},
    Geo.el("label", {}, _("Status")), select,
    Geo.el("button", {type: "button", class: "set-status", onclick: async (e) => {
      e.target.disabled = true;
      error.textContent = "";
      try {
        await Geo.api("POST", "/api/teams/" + encodeURIComponent(feature.id) + "/status",
                      {status: select.value, expected: [p.status]});
        Geo.status(_("{team}: {status}.", {team: p.name || feature.id,
                                          status: Geo.word("team_statuses", select.value)}));
      } catch (err) {
        error.textContent = err.status === 409
          ? _("The team's status changed meanwhile: it is now {status}.",
              {status: Geo.word("team_statuses", err.current)})
          : err.message;
        e.target.disabled = false;
      }
      await Geo.loadLayer("teams").catch(Geo.showError);
      if (Dispatch.at) Dispatch.run();
    }}, _("Set status")), error));
};

Dispatch.moved = async function ({feature, latlng}) {
  const name = feature.properties.name || feature.id;
  try {
    await Geo.api("POST", "/api/teams/" + encodeURIComponent(feature.id) + "/position",
                  {at: [Number(latlng.lng.toFixed(7)), Number(latlng.lat.toFixed(7))]});
    Geo.status(_("{team} moved.", {team: name}));
  } catch (err) {
    Geo.showError(err);  // and the marker snaps back to where the registry has it
  }
  await Geo.loadLayer("teams").catch(Geo.showError);
  if (Dispatch.at) Dispatch.run();
};

/* ---- wiring ------------------------------------------------------------------------------- */

Geo.on("ready", () => {
  Dispatch.build();
  Geo.defaultClick = Dispatch.click;
  (Geo.recordActions.teams = Geo.recordActions.teams || []).push(Dispatch.teamActions);
  Dispatch.listIncidents();
});

Geo.on("layer", (name) => {
  if (name === "incidents" || name === "teams") Dispatch.listIncidents();
  if (name === "teams") Dispatch.markTaken();
});

Geo.on("team-moved", (moved) => Dispatch.moved(moved));
Geo.on("barriers", () => { if (Dispatch.at) Dispatch.run(); });
