/* The registry's layers on the map: fetched from the OGC API, drawn with a style per layer
 * (shelters sized by capacity and coloured by occupancy and status, teams by type and status,
 * hazard zones by level, population as a heat map), clustered where dense, with popups and the
 * record panel; refetched when another user changes them (GET /api/revisions, every 2 s).
 *
 * For the other scripts: Geo.layers[name].features, the event "layer" (name) after a layer is
 * redrawn, Geo.showRecord(layer, feature), Geo.recordActions[layer] (functions adding buttons
 * to the record panel), Geo.addResult(key, label, leafletLayer) for analysis results.
 */
"use strict";

Geo.LAYERS = ["hazards", "population", "shelters", "depots", "teams", "incidents"];
Geo.layers = {};
Geo.recordActions = {};
Geo.results = {};
Geo.POLL_MS = 2000;

Geo.TEAM_GLYPH = {fire: "F", medical: "M", search_rescue: "S", hazmat: "H", water_rescue: "W",
                  police: "P", volunteer: "V", comprehensive: "C"};
Geo.TEAM_STATUS_COLOUR = {available: "#1a9850", assigned: "#d73027", en_route: "#f46d43",
                          on_scene: "#a50026", returning: "#fdae61", off_duty: "#878787"};
Geo.RISK_COLOUR = {1: "#fee08b", 2: "#fdae61", 3: "#f46d43", 4: "#d73027"};
Geo.INCIDENT_COLOUR = {open: "#d73027", dispatched: "#f46d43", closed: "#878787"};

/* A team's marker letter: the first character of its type's name in Chinese (消, 医, 搜 …), a
 * letter in English. */
Geo.teamGlyph = function (type) {
  if (Geo.config.lang === "zh") return Geo.word("team_types", type).charAt(0) || "队";
  return Geo.TEAM_GLYPH[type] || "T";
};

Geo.layerLabel = function (name) {
  return {shelters: _("Shelters"), depots: _("Supply depots"), teams: _("Rescue teams"),
          hazards: _("Hazards"), incidents: _("Incidents"), population: _("Population")}[name] || name;
};

/* Shelter colour: grey closed, purple unsafe, else by how full (occupancy ÷ capacity). */
Geo.shelterColour = function (p) {
  if (p.status === "closed") return "#878787";
  if (p.status === "unsafe") return "#762a83";
  const capacity = Number(p.capacity_people) || 0;
  const share = capacity > 0 ? Number(p.occupancy || 0) / capacity : 1;
  if (p.status === "full" || share >= 0.9) return "#d73027";
  if (share >= 0.5) return "#fc8d59";
  return "#1a9850";
};

Geo.shelterRadius = function (p) {
  return 4 + Math.min(14, Math.sqrt(Number(p.capacity_people) || 0) / 4);
};

/* Where a record's marker goes: its point, or the middle of its footprint (shelters and depots
 * may be areas). */
function latlngOf(feature) {
  const g = feature.geometry;
  if (g.type === "Point") return L.latLng(g.coordinates[1], g.coordinates[0]);
  return L.geoJSON(g).getBounds().getCenter();
}
Geo.anchor = latlngOf;

/* One Leaflet layer per record (points; hazards may be zones). */
Geo.drawFeature = function (layer, feature) {
  const p = feature.properties;
  const g = feature.geometry;
  if (!g) return null;
  if (layer === "shelters") {
    return L.circleMarker(latlngOf(feature), {radius: Geo.shelterRadius(p), color: "#333",
      weight: 1, fillColor: Geo.shelterColour(p), fillOpacity: 0.85});
  }
  if (layer === "teams") {
    const icon = L.divIcon({className: "team-icon", iconSize: [22, 22],
      html: ""});  // filled below with text, never HTML
    // Above clustered shelters: teams are what a dispatcher looks for.
    const marker = L.marker(latlngOf(feature), {icon, draggable: Geo.can("dispatch"),
                                                keyboard: true, title: p.name || feature.id,
                                                zIndexOffset: 1000});
    marker.on("add", () => {
      const node = marker.getElement();
      if (!node) return;
      node.textContent = Geo.teamGlyph(p.type);
      node.style.background = Geo.TEAM_STATUS_COLOUR[p.status] || "#555";
      node.dataset.team = feature.id;
      node.dataset.status = p.status;
    });
    return marker;
  }
  if (layer === "depots" || layer === "incidents") {
    const cls = layer === "depots" ? "depot-icon" : "incident-icon";
    const marker = L.marker(latlngOf(feature), {icon: L.divIcon({className: cls, iconSize: [18, 18]}),
                                                title: p.name || feature.id});
    marker.on("add", () => {
      const node = marker.getElement();
      if (!node) return;
      node.textContent = layer === "depots" ? "D" : "!";
      if (layer === "incidents") node.style.background = Geo.INCIDENT_COLOUR[p.status] || "#d73027";
      node.dataset.record = feature.id;
    });
    return marker;
  }
  if (layer === "hazards") {
    const style = {color: Geo.RISK_COLOUR[p.risk_level] || "#f46d43", weight: 2,
                   fillOpacity: p.active === false ? 0.05 : 0.25,
                   dashArray: p.active === false ? "4 4" : null};
    if (g.type === "Point") {
      return L.circle(latlngOf(feature), Object.assign({radius: Number(p.radius_m) || 50}, style));
    }
    return L.geoJSON(feature, {style: () => style});
  }
  return null;
};

/* A popup: the record's name and main fields, as text. */
Geo.popup = function (layer, feature) {
  const p = feature.properties;
  const rows = Geo.fieldsOf(layer).filter((f) => !["notes", "source", "name"].includes(f.name))
    .slice(0, 6)
    .map((f) => Geo.el("tr", {}, Geo.el("th", {}, Geo.word("fields", f.name)),
                       Geo.el("td", {}, Geo.showValue(layer, f.name, p[f.name]))));
  return Geo.el("div", {class: "popup", dataset: {layer, record: feature.id}},
    Geo.el("strong", {class: "popup-name"}, p.name || feature.id),
    Geo.el("div", {class: "small"}, Geo.layerLabel(layer), " · ", feature.id),
    Geo.el("table", {}, rows),
    Geo.el("button", {type: "button", class: "link",
                      onclick: () => Geo.showRecord(layer, feature)}, _("Details")));
};

Geo.fieldsOf = function (layer) {
  return ((Geo.schemas && Geo.schemas.layers[layer]) || {fields: []}).fields;
};

/* The record panel: every field, then what the user's role may do with it. */
Geo.showRecord = function (layer, feature) {
  const tab = Geo.clear(Geo.showTab("record"));
  const p = feature.properties;
  tab.append(Geo.el("h2", {class: "record-name"}, p.name || feature.id),
             Geo.el("p", {class: "small"}, Geo.layerLabel(layer), " · ", feature.id));
  const rows = Geo.fieldsOf(layer).map((f) => Geo.el("tr", {},
    Geo.el("th", {}, Geo.word("fields", f.name)),
    Geo.el("td", {dataset: {field: f.name}}, Geo.showValue(layer, f.name, p[f.name]))));
  if (layer === "incidents" && p.assigned_teams) {
    rows.push(Geo.el("tr", {}, Geo.el("th", {}, _("Assigned teams")),
                     Geo.el("td", {}, (p.assigned_teams || []).join(", "))));
  }
  tab.append(Geo.el("table", {class: "record"}, rows));
  const actions = Geo.el("div", {class: "actions"});
  for (const add of Geo.recordActions[layer] || []) add(feature, actions);
  tab.append(actions);
  Geo.selected = {layer, id: feature.id};
};

/* ---- loading and drawing ------------------------------------------------------------------ */

Geo.loadLayer = async function (name) {
  const features = await Geo.features(name);
  const entry = Geo.layers[name];
  // Redrawing replaces the markers: a team being dragged (another user's change polled in, or
  // the reload after this dispatcher's previous move) would drop from under the pointer. Its
  // drop reloads the layer (Dispatch.moved), with whatever changed meanwhile.
  if (entry.dragging) return;
  entry.features = features;
  entry.byId = new Map(features.map((f) => [f.id, f]));
  entry.group.clearLayers();
  if (name === "population") {
    const max = Math.max(1, ...features.map((f) => Number(f.properties.population) || 0));
    const points = features.filter((f) => f.geometry).map((f) => {
      const [lon, lat] = f.geometry.coordinates;
      return [lat, lon, (Number(f.properties.population) || 0) / max];
    });
    entry.group.addLayer(L.heatLayer(points, {radius: 14, blur: 16, maxZoom: 16}));
  } else {
    for (const feature of features) {
      const drawn = Geo.drawFeature(name, feature);
      if (!drawn) continue;
      drawn.bindPopup(() => Geo.popup(name, feature));
      drawn.feature = feature;
      if (name === "teams" && Geo.can("dispatch")) {
        drawn.on("dragstart", () => { entry.dragging = true; });
        drawn.on("dragend", (e) => {
          entry.dragging = false;
          Geo.emit("team-moved", {feature, latlng: e.target.getLatLng()});
        });
      }
      entry.group.addLayer(drawn);
    }
  }
  // Selected record shown fresh.
  if (Geo.selected && Geo.selected.layer === name && entry.byId.has(Geo.selected.id)) {
    const tab = document.getElementById("tab-record");
    if (!tab.hidden) Geo.showRecord(name, entry.byId.get(Geo.selected.id));
  }
  Geo.emit("layer", name);
};

Geo.addResult = function (key, label, layer) {
  if (Geo.results[key]) {
    Geo.map.removeLayer(Geo.results[key]);
    Geo.control.removeLayer(Geo.results[key]);
  }
  Geo.results[key] = layer;
  layer.addTo(Geo.map);
  Geo.control.addOverlay(layer, label);
};

Geo.removeResult = function (key) {
  if (!Geo.results[key]) return;
  Geo.map.removeLayer(Geo.results[key]);
  Geo.control.removeLayer(Geo.results[key]);
  delete Geo.results[key];
};

function makeGroup(name) {
  if (name === "shelters" || name === "depots") {
    return L.markerClusterGroup({disableClusteringAtZoom: 15, maxClusterRadius: 40,
                                 showCoverageOnHover: false});
  }
  return L.featureGroup();
}

Geo.legend = function () {
  const legend = L.control({position: "bottomleft"});
  legend.onAdd = () => {
    const swatch = (colour, cls) => Geo.el("span", {class: "swatch " + (cls || ""),
                                                   style: "background:" + colour});
    const row = (colour, text, cls) => Geo.el("div", {}, swatch(colour, cls), text);
    return Geo.el("details", {class: "legend", id: "legend", open: true},
      Geo.el("summary", {}, _("Legend")),
      Geo.el("strong", {}, Geo.layerLabel("shelters")),
      row("#1a9850", _("room (under half full)"), "round"),
      row("#fc8d59", _("filling (half full or more)"), "round"),
      row("#d73027", _("full or nearly full"), "round"),
      row("#878787", Geo.word("shelter_statuses", "closed"), "round"),
      row("#762a83", Geo.word("shelter_statuses", "unsafe"), "round"),
      Geo.el("div", {class: "small"}, _("size: capacity")),
      Geo.el("strong", {}, Geo.layerLabel("teams")),
      Object.entries(Geo.TEAM_STATUS_COLOUR).map(([s, c]) => row(c, Geo.word("team_statuses", s))),
      Geo.el("div", {class: "small"}, Object.keys(Geo.TEAM_GLYPH)
        .map((t) => Geo.teamGlyph(t) + " " + Geo.word("team_types", t)).join(" · ")),
      Geo.el("strong", {}, Geo.layerLabel("hazards")),
      [1, 2, 3, 4].map((r) => row(Geo.RISK_COLOUR[r], _("risk level {n}", {n: r}))),
      Geo.el("strong", {}, Geo.layerLabel("population")),
      Geo.el("div", {class: "small"}, _("heat: people per area")));
  };
  legend.addTo(Geo.map);
};

/* Place names from the extract, as text labels above the basemap (the tiles carry none). */
Geo.loadPlaces = async function () {
  let places;
  try { places = await Geo.api("GET", "/ui/places.json"); } catch (err) { return; }
  const group = L.layerGroup();
  for (const f of places.features || []) {
    const [lon, lat] = f.geometry.coordinates;
    const marker = L.marker([lat, lon], {interactive: false, keyboard: false,
      icon: L.divIcon({className: "place-label", iconSize: null})});
    marker.minZoom = f.properties.min_zoom || 0;
    marker.on("add", () => {
      const node = marker.getElement();
      if (node) node.textContent = f.properties.label || f.properties.name || "";
    });
    group.addLayer(marker);
  }
  const showByZoom = () => {
    const zoom = Geo.map.getZoom();
    group.eachLayer((m) => {
      const node = m.getElement();
      if (node) node.style.display = zoom >= m.minZoom ? "" : "none";
    });
  };
  group.on("add", showByZoom);
  Geo.map.on("zoomend", showByZoom);
  group.addTo(Geo.map);
  Geo.control.addOverlay(group, _("Place names"));
  showByZoom();
};

/* ---- staying current ---------------------------------------------------------------------- */

Geo.poll = async function () {
  try {
    const answer = await Geo.api("GET", "/api/revisions", null, {quiet401: true,
                                                                  background: true});
    const changed = Geo.LAYERS.filter((n) => Geo.layers[n].revision !== undefined &&
                                             answer.revisions[n] !== Geo.layers[n].revision);
    for (const name of Geo.LAYERS) Geo.layers[name].revision = answer.revisions[name];
    for (const name of changed) await Geo.loadLayer(name);
  } catch (err) {
    // The next poll tries again; a stopped service shows on the status line.
    if (err.status === 0) Geo.status(err.message, {error: true});
  } finally {
    setTimeout(Geo.poll, Geo.POLL_MS);
  }
};

Geo.on("ready", async () => {
  for (const name of Geo.LAYERS) {
    const group = makeGroup(name);
    Geo.layers[name] = {group, features: [], byId: new Map()};
    group.addTo(Geo.map);
    Geo.control.addOverlay(group, Geo.layerLabel(name));
  }
  Geo.legend();
  Geo.loadPlaces();
  try {
    const answer = await Geo.api("GET", "/api/revisions");
    for (const name of Geo.LAYERS) Geo.layers[name].revision = answer.revisions[name];
    await Promise.all(Geo.LAYERS.map((name) => Geo.loadLayer(name)));
  } catch (err) {
    Geo.showError(err);
  }
  document.body.dataset.layersLoaded = "true";
  setTimeout(Geo.poll, Geo.POLL_MS);
});
