/* The planner's work, in the Planning tab and the record panel:
 *
 * - records: add shelters, depots, teams and hazards by clicking the map and filling a form built
 *   from the layer's fields (GET /api/layers); edit, move and delete them from the record panel
 *   (OGC API – Features writes with If-Match). The server validates: its message is shown next to
 *   the field it names, and nothing is written.
 * - import a file into a layer, with the server's row report when it refuses the file;
 * - coverage (a chart and a table per break, the uncovered population on the map) and service
 *   areas (polygons by break) — both jobs, with progress on the status line;
 * - temporary barriers drawn with Leaflet.draw (lines close the roads they cross, areas the roads
 *   inside them), kept in Geo.barriers; every change emits "barriers" and reruns what depends on
 *   them;
 * - exposure of a hazard: the people, shelters, depots and teams inside its zone.
 *
 * Editing controls only for Geo.can("edit"), imports for Geo.can("import"); analyses and barriers
 * for everyone who can read. Text from the registry is only ever set as text (Geo.el).
 */
"use strict";

const Plan = {
  EDITABLE: ["shelters", "depots", "teams", "hazards"],
  FACILITIES: ["shelters", "teams", "depots"],
  LAST_FIELDS: ["notes", "source"],   // shown at the end of a form
  RAMP: ["#08519c", "#2171b5", "#4292c6", "#6baed6", "#9ecae1"],
  SVG: "http://www.w3.org/2000/svg",
  editing: null,        // {layer, id, form}: the record form open in the record panel
  placing: null,        // the marker of a record being added
  lastAreas: null,      // {kind: "coverage"|"service-areas", body}: rerun when barriers change
  shown: {},            // kind → true while its result is on the map
  running: {},          // kind → true while its job runs
  seq: 0,
};
Geo.plan = Plan;

Plan.number = function (value, digits) {
  const lang = Geo.config.lang === "zh" ? "zh-CN" : "en";
  return new Intl.NumberFormat(lang, {maximumFractionDigits: digits || 0,
                                      minimumFractionDigits: digits || 0}).format(value);
};

Plan.layerLabel = function (name) {
  return name === "inventory" ? _("Depot inventory") : Geo.layerLabel(name);
};

Plan.addLabel = function (name) {
  return {shelters: _("Add a shelter"), depots: _("Add a depot"), teams: _("Add a team"),
          hazards: _("Add a hazard")}[name];
};

Plan.drawLabel = function (name) {
  return {shelters: _("Draw a shelter area"), depots: _("Draw a depot area"),
          hazards: _("Draw a hazard zone")}[name];
};

Plan.section = function (title, ...children) {
  return Geo.el("details", {class: "plan-section", open: true},
                Geo.el("summary", {}, title), ...children);
};

/* ---- forms built from a layer's fields ---------------------------------------------------- */

/* The label of one allowed value of a field. */
Plan.choiceLabel = function (layer, field, value) {
  if (field === "shelter_class") return Geo.className(value);
  if (field === "item") return Geo.itemName(value);
  const vocab = (Geo.VOCABULARY[layer] || {})[field];
  return vocab ? Geo.word(vocab, value) : String(value);
};

/* A value as the form shows it (text). */
Plan.asText = function (field, value) {
  if (value === null || value === undefined) return "";
  if (field.kind === "list") return Array.isArray(value) ? value.join(", ") : String(value);
  if (field.kind === "dict") return typeof value === "string" ? value : JSON.stringify(value);
  return String(value);
};

Plan.orderedFields = function (layer) {
  const fields = Geo.fieldsOf(layer);
  return [...fields.filter((f) => !Plan.LAST_FIELDS.includes(f.name)),
          ...fields.filter((f) => Plan.LAST_FIELDS.includes(f.name))];
};

/* The form of a record of ``layer``: ``values`` prefill it (an edit) or the fields' defaults do
 * (a new record). Each input has an element [data-error-for=<field>] under it for the server's
 * message. The browser's own checks are off (novalidate): the server checks, and says which
 * field is wrong. */
Plan.recordForm = function (layer, values, submitLabel) {
  const formId = "plan-f" + (++Plan.seq);
  const form = Geo.el("form", {class: "record-form", novalidate: true, dataset: {layer}});
  for (const field of Plan.orderedFields(layer)) {
    const id = formId + "-" + field.name;
    const current = values ? values[field.name] : field.default;
    let input;
    if (field.kind === "bool") {
      input = Geo.el("input", {type: "checkbox", id, name: field.name,
                               checked: current === true || current === null && field.default});
    } else if (field.choices) {
      const options = [];
      if (!field.required && (field.default === null || field.default === undefined)) {
        options.push(Geo.el("option", {value: ""}, "—"));
      } else if (current === null || current === undefined) {
        options.push(Geo.el("option", {value: "", selected: true}, _("choose…")));
      }
      for (const choice of field.choices) {
        options.push(Geo.el("option", {value: choice, selected: String(current) === String(choice)},
                            Plan.choiceLabel(layer, field.name, choice)));
      }
      input = Geo.el("select", {id, name: field.name}, options);
      // A value the vocabulary does not know (an old record) stays visible, not silently changed.
      if (current !== null && current !== undefined && current !== "" &&
          !field.choices.map(String).includes(String(current))) {
        input.append(Geo.el("option", {value: String(current), selected: true}, String(current)));
      }
    } else if (field.kind === "int" || field.kind === "float") {
      input = Geo.el("input", {type: "number", id, name: field.name, step: "any",
                               min: field.minimum, max: field.maximum,
                               value: Plan.asText(field, current)});
    } else if (field.name === "notes" || field.kind === "dict") {
      input = Geo.el("textarea", {id, name: field.name, rows: 2});
      input.value = Plan.asText(field, current);
    } else {
      input = Geo.el("input", {type: "text", id, name: field.name,
                               value: Plan.asText(field, current),
                               placeholder: field.kind === "list" ? _("comma-separated") : null});
    }
    const label = Geo.el("label", {for: id}, Geo.word("fields", field.name),
                         field.required ? Geo.el("span", {class: "required", title: _("required")}, " *") : null);
    const row = Geo.el("div", {class: "form-row" + (field.kind === "bool" ? " checkbox" : ""),
                               dataset: {field: field.name}},
      field.kind === "bool" ? [input, label] : [label, input],
      Geo.el("div", {class: "field-error", dataset: {errorFor: field.name}, role: "alert"}));
    form.append(row);
  }
  form.append(Geo.el("div", {class: "form-error", role: "alert"}),
              Geo.el("div", {class: "form-buttons"},
                     Geo.el("button", {type: "submit", class: "primary"}, submitLabel),
                     Geo.el("button", {type: "button", class: "cancel"}, _("Cancel"))));
  return form;
};

/* What the user typed, per field: text as typed (numbers too: the server checks them), lists
 * split at commas, booleans as booleans. Empty inputs are null. */
Plan.readForm = function (layer, form) {
  const values = {};
  for (const field of Geo.fieldsOf(layer)) {
    const input = form.elements.namedItem(field.name);
    if (!input) continue;
    if (field.kind === "bool") { values[field.name] = input.checked; continue; }
    if (input.validity && input.validity.badInput) {
      // The browser keeps what it cannot read as a number to itself: say so here.
      throw Object.assign(new Error(_("{field}: not a number", {field: Geo.word("fields", field.name)})),
                          {field: field.name});
    }
    const text = input.value.trim();
    if (text === "") {
      values[field.name] = field.kind === "str" && !field.choices ? "" : null;
    } else if (field.kind === "list") {
      values[field.name] = text.split(/[,，、]/).map((s) => s.trim()).filter((s) => s);
    } else if (field.kind === "dict") {
      try { values[field.name] = JSON.parse(text); } catch (err) { values[field.name] = text; }
    } else {
      values[field.name] = text;
    }
  }
  return values;
};

/* Properties of a new record: what the user filled in (empty fields take the defaults). */
Plan.newProperties = function (layer, form) {
  const values = Plan.readForm(layer, form);
  const fields = new Map(Geo.fieldsOf(layer).map((f) => [f.name, f]));
  const properties = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === null || value === "") continue;
    if (Array.isArray(value) && value.length === 0) continue;
    if (fields.get(name).kind === "bool" && value === Boolean(fields.get(name).default)) continue;
    properties[name] = value;
  }
  return properties;
};

/* The merge patch of an edit: only the fields the user changed. */
Plan.changedProperties = function (layer, form, original) {
  const values = Plan.readForm(layer, form);
  const patch = {};
  for (const field of Geo.fieldsOf(layer)) {
    if (!(field.name in values)) continue;
    const before = original[field.name];
    const after = values[field.name];
    if (field.kind === "bool") {
      if (Boolean(before) !== after) patch[field.name] = after;
    } else if (Plan.asText(field, before) !== Plan.asText(field, after)) {
      patch[field.name] = after;
    }
  }
  return patch;
};

/* ---- adding a record ---------------------------------------------------------------------- */

Plan.startAdd = function (layer) {
  Plan.cancelAdd();
  const holder = document.getElementById("plan-form-holder");
  Geo.clear(holder).append(Geo.el("p", {class: "hint placing-hint"},
    _("Click the map where the new record goes."), " ",
    Geo.el("button", {type: "button", class: "link", onclick: () => Plan.cancelAdd()}, _("Cancel"))));
  Geo.status(_("Click the map where the new record goes."));
  Geo.takeClick("add-" + layer, (latlng) => Plan.placed(layer, latlng));
};

Plan.cancelAdd = function () {
  if (Plan.drawHandler) { const handler = Plan.drawHandler; Plan.drawHandler = null; handler.disable(); }
  Plan.drawTarget = null;
  if (Geo.clickMode && Geo.clickMode.name.startsWith("add-")) { Geo.releaseClick(); Geo.status(""); }
  if (Plan.placing) { Geo.map.removeLayer(Plan.placing); Plan.placing = null; }
  const holder = document.getElementById("plan-form-holder");
  if (holder) Geo.clear(holder);
};

Plan.placed = function (layer, latlng) {
  const lon = Number(latlng.lng.toFixed(7));
  const lat = Number(latlng.lat.toFixed(7));
  Plan.placedGeometry(layer, {type: "Point", coordinates: [lon, lat]},
    L.circleMarker(latlng, {radius: 9, color: "#1f6feb", weight: 3, dashArray: "3 3",
                            fill: false, interactive: false}),
    _("at {lat}, {lon}", {lat: lat.toFixed(5), lon: lon.toFixed(5)}));
};

/* Draw the footprint of a new record (a hazard zone, a shelter's or depot's area). */
Plan.startDrawAdd = function (layer) {
  Plan.cancelAdd();
  if (!L.Draw) return;
  const holder = document.getElementById("plan-form-holder");
  Geo.clear(holder).append(Geo.el("p", {class: "hint placing-hint"},
    _("Draw the area on the map: click its corners, then the first corner to close it."), " ",
    Geo.el("button", {type: "button", class: "link", onclick: () => Plan.cancelAdd()}, _("Cancel"))));
  Plan.drawTarget = layer;
  Plan.drawHandler = new L.Draw.Polygon(Geo.map, {allowIntersection: false, showArea: false,
    shapeOptions: {color: "#1f6feb", weight: 3, dashArray: "3 3", fillOpacity: 0.1}});
  Plan.drawHandler.enable();
};

Plan.placedGeometry = function (layer, geometry, preview, where) {
  Geo.status("");
  if (Plan.placing) Geo.map.removeLayer(Plan.placing);
  Plan.placing = preview.addTo(Geo.map);
  const form = Plan.recordForm(layer, null, _("Save"));
  form.querySelector(".cancel").addEventListener("click", () => Plan.cancelAdd());
  const holder = Geo.clear(document.getElementById("plan-form-holder"));
  holder.append(Geo.el("h3", {}, Plan.addLabel(layer)), Geo.el("p", {class: "small"}, where), form);
  Geo.showTab("plan");
  const first = form.querySelector("input, select, textarea");
  if (first) first.focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    Geo.clearErrors(form);
    let properties;
    try { properties = Plan.newProperties(layer, form); } catch (err) { Geo.formError(form, err); return; }
    const feature = {type: "Feature", geometry, properties};
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    let created;
    try {
      created = await Geo.api("POST", "/collections/" + layer + "/items", feature,
                              {contentType: "application/geo+json"});
    } catch (err) {
      Geo.formError(form, err);
      return;
    } finally {
      button.disabled = false;
    }
    Plan.cancelAdd();
    await Plan.reloadAndShow(layer, created);
    Geo.status(_("Saved {name}.", {name: created.properties.name || created.id}));
  });
};

Plan.reloadAndShow = async function (layer, feature) {
  try { await Geo.loadLayer(layer); } catch (err) { Geo.showError(err); }
  const fresh = Geo.layers[layer].byId.get(feature.id) || feature;
  Geo.showRecord(layer, fresh);
};

/* ---- the record panel: edit, move, delete ------------------------------------------------- */

/* The record as stored now, with its ETag (the If-Match of a write). */
Plan.fetchRecord = async function (layer, id) {
  const response = await Geo.api("GET", "/collections/" + layer + "/items/" + encodeURIComponent(id),
                                 null, {raw: true});
  return {feature: await response.json(), etag: response.headers.get("ETag")};
};

Plan.recordActions = function (layer) {
  return (feature, container) => {
    if (!Geo.can("edit")) return;
    const holder = Geo.el("div", {class: "plan-record-work"});
    const isPoint = feature.geometry && feature.geometry.type === "Point";
    Geo.append(container, [
      Geo.el("button", {type: "button", class: "plan-edit", onclick: () => Plan.edit(layer, feature.id, holder)},
             _("Edit")),
      Geo.el("button", {type: "button", class: "plan-move", disabled: !isPoint,
                        title: isPoint ? null : _("An area keeps its footprint: it cannot be moved by a click."),
                        onclick: () => Plan.move(layer, feature, holder)}, _("Move")),
      Geo.el("button", {type: "button", class: "plan-delete",
                        onclick: () => Plan.confirmDelete(layer, feature, holder)}, _("Delete")),
      isPoint ? null : Geo.el("p", {class: "small"},
        _("This record is an area: Move is for points, so its footprint stays where it is. Change the footprint with a GIS client (OGC API – Features) or an import.")),
      holder]);
    // The panel is redrawn when the layer changes (another user's edit): an open form stays, with
    // what the user typed.
    if (Plan.editing && Plan.editing.layer === layer && Plan.editing.id === feature.id) {
      holder.append(Plan.editing.box);
    }
  };
};

Plan.closeEdit = function () {
  if (Plan.editing) Plan.editing.box.remove();
  Plan.editing = null;
};

Plan.edit = async function (layer, id, holder, notice) {
  Plan.closeEdit();
  let stored;
  try { stored = await Plan.fetchRecord(layer, id); } catch (err) { Geo.showError(err); return; }
  const form = Plan.recordForm(layer, stored.feature.properties, _("Save changes"));
  const box = Geo.el("div", {class: "plan-edit-box"}, Geo.el("h3", {}, _("Edit")), form);
  Plan.editing = {layer, id, box};
  holder.append(box);
  if (notice) {
    const note = form.querySelector(".form-error");
    note.textContent = notice;
  }
  form.querySelector(".cancel").addEventListener("click", () => Plan.closeEdit());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    Geo.clearErrors(form);
    let patch;
    try { patch = Plan.changedProperties(layer, form, stored.feature.properties); } catch (err) {
      Geo.formError(form, err);
      return;
    }
    if (Object.keys(patch).length === 0) {
      form.querySelector(".form-error").textContent = _("Nothing changed.");
      return;
    }
    let saved;
    try {
      saved = await Plan.write("PATCH", layer, id, stored.etag, {properties: patch});
    } catch (err) {
      if (err.status === 412) {
        Plan.closeEdit();
        await Plan.reloadAndShow(layer, stored.feature);
        const panel = document.querySelector("#tab-record .plan-record-work");
        if (panel) {
          Plan.edit(layer, id, panel, _("Someone else changed this record after you opened it. It has been reloaded: check it and make your change again."));
        }
        return;
      }
      Geo.formError(form, err);
      return;
    }
    Plan.closeEdit();
    await Plan.reloadAndShow(layer, saved);
    Geo.status(_("Saved {name}.", {name: saved.properties.name || saved.id}));
  });
};

Plan.write = function (method, layer, id, etag, body) {
  return Geo.api(method, "/collections/" + layer + "/items/" + encodeURIComponent(id), body,
                 {headers: {"If-Match": etag || "*"}, contentType: "application/merge-patch+json"});
};

Plan.move = function (layer, feature, holder) {
  Plan.closeEdit();
  const name = feature.properties.name || feature.id;
  const box = Geo.el("div", {class: "plan-move-box"},
    Geo.el("p", {class: "hint"}, _("Click the map where {name} goes.", {name}), " ",
           Geo.el("button", {type: "button", class: "link", onclick: () => {
             Geo.releaseClick(); Plan.closeEdit(); Geo.status("");
           }}, _("Cancel"))),
    Geo.el("div", {class: "form-error", role: "alert"}));
  Plan.editing = {layer, id: feature.id, box};
  holder.append(box);
  Geo.status(_("Click the map where {name} goes.", {name}));
  Geo.takeClick("move", async (latlng) => {
    Geo.status("");
    const geometry = {type: "Point", coordinates: [Number(latlng.lng.toFixed(7)),
                                                   Number(latlng.lat.toFixed(7))]};
    try {
      const stored = await Plan.fetchRecord(layer, feature.id);
      const saved = await Plan.write("PATCH", layer, feature.id, stored.etag, {geometry});
      Plan.closeEdit();
      await Plan.reloadAndShow(layer, saved);
      Geo.status(_("Moved {name}.", {name}));
    } catch (err) {
      const target = box.querySelector(".form-error");
      target.textContent = err.message;
    }
  });
};

Plan.confirmDelete = function (layer, feature, holder) {
  Plan.closeEdit();
  const name = feature.properties.name || feature.id;
  const box = Geo.el("div", {class: "plan-delete-box"},
    Geo.el("p", {}, _("Delete {name}? This cannot be undone here.", {name})),
    Geo.el("div", {class: "form-error", role: "alert"}),
    Geo.el("button", {type: "button", class: "danger plan-delete-confirm", onclick: async () => {
      try {
        const stored = await Plan.fetchRecord(layer, feature.id);
        await Plan.write("DELETE", layer, feature.id, stored.etag);
      } catch (err) {
        box.querySelector(".form-error").textContent = err.message;
        return;
      }
      Plan.closeEdit();
      Geo.selected = null;
      const tab = Geo.clear(Geo.showTab("record"));
      tab.append(Geo.el("p", {class: "hint"}, _("Deleted {name}.", {name})));
      try { await Geo.loadLayer(layer); } catch (err) { Geo.showError(err); }
      Geo.status(_("Deleted {name}.", {name}));
    }}, _("Delete")),
    " ",
    Geo.el("button", {type: "button", onclick: () => Plan.closeEdit()}, _("Cancel")));
  Plan.editing = {layer, id: feature.id, box};
  holder.append(box);
};

/* ---- import ------------------------------------------------------------------------------- */

Plan.importSection = function () {
  const layers = Object.keys(Geo.schemas.layers);
  const form = Geo.el("form", {id: "plan-import", novalidate: true},
    Geo.el("label", {for: "plan-import-layer"}, _("Layer")),
    Geo.el("select", {id: "plan-import-layer", name: "layer"},
           layers.map((l) => Geo.el("option", {value: l}, Plan.layerLabel(l)))),
    Geo.el("label", {for: "plan-import-file"}, _("File (GeoJSON, CSV, GeoPackage, zipped Shapefile)")),
    Geo.el("input", {type: "file", id: "plan-import-file", name: "file",
                     accept: ".geojson,.json,.csv,.gpkg,.zip"}),
    Geo.el("div", {class: "field-error", dataset: {errorFor: "file"}, role: "alert"}),
    Geo.el("label", {for: "plan-import-crs"}, _("Coordinates")),
    Geo.el("select", {id: "plan-import-crs", name: "crs"},
      Geo.el("option", {value: ""}, _("as the file says (else WGS84)")),
      Geo.el("option", {value: "EPSG:4326"}, _("WGS84 (EPSG:4326)")),
      Geo.el("option", {value: "GCJ-02"}, _("GCJ-02 (Gaode, Tencent maps)")),
      Geo.el("option", {value: "BD-09"}, _("BD-09 (Baidu maps)"))),
    Geo.el("div", {class: "field-error", dataset: {errorFor: "crs"}, role: "alert"}),
    Geo.el("label", {for: "plan-import-encoding"}, _("Encoding (CSV)")),
    Geo.el("select", {id: "plan-import-encoding", name: "encoding"},
      Geo.el("option", {value: ""}, _("detect")),
      Geo.el("option", {value: "utf-8"}, "UTF-8"),
      Geo.el("option", {value: "gb18030"}, "GB18030 / GBK")),
    Geo.el("div", {class: "field-error", dataset: {errorFor: "encoding"}, role: "alert"}),
    Geo.el("p", {class: "small"}, _("A file with any bad row imports nothing; the problems are listed row by row.")),
    Geo.el("div", {class: "form-error", role: "alert"}),
    Geo.el("button", {type: "submit", class: "primary"}, _("Import")),
    Geo.el("div", {id: "plan-import-result", "aria-live": "polite"}));
  form.addEventListener("submit", (event) => { event.preventDefault(); Plan.runImport(form); });
  return Plan.section(_("Import a file"), form);
};

Plan.runImport = async function (form) {
  Geo.clearErrors(form);
  const result = Geo.clear(form.querySelector("#plan-import-result"));
  const layer = form.elements.layer.value;
  const file = form.elements.file.files[0];
  if (!file) {
    Geo.formError(form, {field: "file", message: _("Choose a file to import.")});
    return;
  }
  const body = new FormData();
  body.append("file", file, file.name);
  for (const name of ["crs", "encoding"]) {
    if (form.elements[name].value) body.append(name, form.elements[name].value);
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  Geo.status(_("Importing {file}…", {file: file.name}));
  try {
    const answer = await Geo.api("POST", "/api/layers/" + encodeURIComponent(layer) + "/import", body);
    Geo.status("");
    result.append(Geo.el("p", {class: "import-ok", dataset: {imported: answer.imported}},
      _("Imported {count} record(s) into {layer}.", {count: answer.imported, layer: Plan.layerLabel(layer)})));
    form.elements.file.value = "";
    if (Geo.layers[layer]) await Geo.loadLayer(layer);
  } catch (err) {
    Geo.status("");
    if (err.problems && err.problems.length) {
      result.append(
        Geo.el("p", {class: "import-refused"}, _("Nothing was imported: {count} problem(s).", {count: err.problems.length})),
        Geo.el("table", {class: "row-report"},
          Geo.el("thead", {}, Geo.el("tr", {}, Geo.el("th", {}, _("Row")), Geo.el("th", {}, _("Field")),
                                     Geo.el("th", {}, _("Problem")))),
          Geo.el("tbody", {}, err.problems.map((p) => Geo.el("tr", {},
            Geo.el("td", {}, p.row), Geo.el("td", {}, p.field ? Geo.word("fields", p.field) : ""),
            Geo.el("td", {}, p.problem))))));
    } else {
      Geo.formError(form, err);
    }
  } finally {
    button.disabled = false;
  }
};

/* ---- coverage and service areas ----------------------------------------------------------- */

Plan.areasSection = function () {
  const form = Geo.el("form", {id: "plan-areas", novalidate: true},
    Geo.el("label", {for: "plan-areas-layer"}, _("Facilities")),
    Geo.el("select", {id: "plan-areas-layer", name: "layer"},
           Plan.FACILITIES.map((l) => Geo.el("option", {value: l}, Geo.layerLabel(l)))),
    Geo.el("div", {class: "field-error", dataset: {errorFor: "layer"}, role: "alert"}),
    Geo.el("label", {for: "plan-areas-breaks"}, _("Breaks (minutes, comma-separated)")),
    Geo.el("input", {type: "text", id: "plan-areas-breaks", name: "breaks", value: "5,10,15",
                     inputmode: "decimal"}),
    Geo.el("div", {class: "field-error", dataset: {errorFor: "breaks"}, role: "alert"}),
    Geo.el("label", {for: "plan-areas-mode"}, _("Travel by")),
    Geo.el("select", {id: "plan-areas-mode", name: "mode"},
      Geo.el("option", {value: ""}, _("default (walk to shelters, drive for teams and depots)")),
      Geo.el("option", {value: "walk"}, _("walking")),
      Geo.el("option", {value: "drive"}, _("driving"))),
    Geo.el("div", {class: "field-error", dataset: {errorFor: "mode"}, role: "alert"}),
    Geo.el("label", {for: "plan-areas-form"}, _("Service-area shape")),
    Geo.el("select", {id: "plan-areas-form", name: "form"},
      Geo.el("option", {value: "band"}, _("along the reached roads")),
      Geo.el("option", {value: "filled"}, _("filled between reached roads"))),
    Geo.el("div", {class: "field-error", dataset: {errorFor: "form"}, role: "alert"}),
    Geo.el("div", {class: "form-row checkbox"},
      Geo.el("input", {type: "checkbox", id: "plan-areas-hazards", name: "hazards", checked: true}),
      Geo.el("label", {for: "plan-areas-hazards"}, _("Active hazards block or slow roads"))),
    Geo.el("p", {class: "small plan-barrier-note"}),
    Geo.el("div", {class: "form-error", role: "alert"}),
    Geo.el("div", {class: "form-buttons"},
      Geo.el("button", {type: "submit", class: "primary", id: "plan-run-coverage"}, _("Run coverage")),
      Geo.el("button", {type: "button", id: "plan-run-areas",
                        onclick: () => Plan.runAreas(form, "service-areas")}, _("Service areas"))));
  form.addEventListener("submit", (event) => { event.preventDefault(); Plan.runAreas(form, "coverage"); });
  return Plan.section(_("Coverage and service areas"), form,
                      Geo.el("div", {id: "plan-coverage-result", "aria-live": "polite"}),
                      Geo.el("div", {id: "plan-areas-result", "aria-live": "polite"}));
};

/* The request of a coverage or service-area run, from the form; null (and the error shown)
 * when the breaks are not numbers. */
Plan.areasBody = function (form) {
  Geo.clearErrors(form);
  const text = form.elements.breaks.value.trim();
  const parts = text.split(/[,，\s]+/).filter((s) => s);
  const breaks = parts.map(Number);
  if (!parts.length || breaks.some((b) => !isFinite(b))) {
    Geo.formError(form, {field: "breaks", message: _("Breaks: minutes as numbers, e.g. 5,10,15.")});
    return null;
  }
  const body = {layer: form.elements.layer.value, breaks, unit: "min",
                hazards: form.elements.hazards.checked};
  if (form.elements.mode.value) body.mode = form.elements.mode.value;
  return body;
};

Plan.withBarriers = function (body) {
  const copy = Object.assign({}, body);
  delete copy.barriers;
  if (Geo.barriers && Geo.barriers.features.length) copy.barriers = Geo.barriers;
  return copy;
};

Plan.runAreas = async function (form, kind, body) {
  body = body || Plan.areasBody(form);
  if (!body) return;
  if (kind === "service-areas" && !body.form) body = Object.assign({}, body, {form: form.elements.form.value});
  if (Plan.running[kind]) return;
  Plan.running[kind] = true;
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  const label = kind === "coverage" ? _("Coverage") : _("Service areas");
  Geo.status(_("{what}: starting…", {what: label}), {progress: 0});
  const sent = Plan.withBarriers(body);
  try {
    const result = await Geo.runJob("/api/" + kind, sent, label);
    Plan.lastAreas = Object.assign(Plan.lastAreas || {}, {[kind]: body});
    if (kind === "coverage") Plan.showCoverage(result, body, sent); else Plan.showServiceAreas(result, body, sent);
    Plan.shown[kind] = true;
  } catch (err) {
    if (!Geo.formError(form, err)) Geo.showError(err);
  } finally {
    Plan.running[kind] = false;
    buttons.forEach((b) => { b.disabled = false; });
  }
};

Plan.breakLabel = function (value, unit) {
  if (unit === "m") return Geo.km(value);
  return _("{n} min", {n: Plan.number(value / 60, Number.isInteger(value / 60) ? 0 : 1)});
};

Plan.svg = function (tag, attrs, text) {
  const node = document.createElementNS(Plan.SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined) node.setAttribute(key, String(value));
  }
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
};

/* Bars of the share of the population covered within each break (inline SVG: no library). */
Plan.coverageChart = function (summary, unit) {
  const labelW = 64, barW = 200, rowH = 40, top = 22, width = labelW + barW + 70;
  const height = top + rowH * summary.length + 18;
  const chart = Plan.svg("svg", {class: "coverage-chart", width, height,
                                 viewBox: "0 0 " + width + " " + height, role: "img",
                                 "aria-label": _("Population covered per break")});
  chart.append(Plan.svg("text", {x: 0, y: 14, class: "chart-title"}, _("Population covered per break")));
  summary.forEach((row, i) => {
    const y = top + i * rowH;
    const percent = Number(row.percent_covered) || 0;
    const group = Plan.svg("g", {class: "bar", "data-break": row.break, "data-percent": percent});
    group.append(
      Plan.svg("text", {x: 0, y: y + 15, class: "bar-label"}, Plan.breakLabel(row.break, unit)),
      Plan.svg("rect", {x: labelW, y: y + 3, width: barW, height: 16, class: "bar-back"}),
      Plan.svg("rect", {x: labelW, y: y + 3, width: barW * Math.min(100, Math.max(0, percent)) / 100,
                        height: 16, class: "bar-fill",
                        fill: Plan.rampColour(i, summary.length)}),
      Plan.svg("text", {x: labelW + barW + 6, y: y + 15, class: "bar-percent"},
               Plan.number(percent, 1) + "%"),
      Plan.svg("text", {x: labelW, y: y + 33, class: "bar-people"},
               _("{covered} of {total} people", {covered: Plan.number(row.covered),
                                                  total: Plan.number(row.total)})));
    chart.append(group);
  });
  [0, 50, 100].forEach((tick) => {
    const x = labelW + barW * tick / 100;
    chart.append(Plan.svg("line", {x1: x, x2: x, y1: top, y2: height - 14, class: "chart-tick"}),
                 Plan.svg("text", {x, y: height - 2, class: "chart-axis", "text-anchor": "middle"},
                          tick + "%"));
  });
  return chart;
};

Plan.describeRun = function (body, sent) {
  const bits = [Geo.layerLabel(body.layer),
                body.mode === "walk" ? _("walking") : body.mode === "drive" ? _("driving") : _("default travel mode")];
  if (sent.barriers) bits.push(_("{n} barrier(s)", {n: sent.barriers.features.length}));
  if (!body.hazards) bits.push(_("hazards ignored"));
  return bits.join(" · ");
};

Plan.showCoverage = function (result, body, sent) {
  const box = Geo.clear(document.getElementById("plan-coverage-result"));
  const summary = result.summary || [];
  const unit = result.unit;
  box.dataset.stale = "false";
  box.append(Geo.el("h3", {}, _("Coverage")),
             Geo.el("p", {class: "small run-inputs"}, Plan.describeRun(body, sent)),
             Geo.el("p", {class: "stale-note", hidden: true},
                    _("The barriers changed since this result: it is being recomputed.")),
             Plan.changedNote(),
             Plan.coverageChart(summary, unit));
  const rows = summary.map((row) => Geo.el("tr", {dataset: {break: row.break}},
    Geo.el("td", {}, Plan.breakLabel(row.break, unit)),
    Geo.el("td", {class: "num"}, Plan.number(row.covered)),
    Geo.el("td", {class: "num"}, Plan.number(row.uncovered)),
    Geo.el("td", {class: "num"}, Plan.number(row.unreachable)),
    Geo.el("td", {class: "num percent"}, Plan.number(row.percent_covered, 1) + "%")));
  box.append(Geo.el("table", {class: "coverage-table"},
    Geo.el("thead", {}, Geo.el("tr", {}, Geo.el("th", {}, _("Within")), Geo.el("th", {}, _("Covered")),
                                  Geo.el("th", {}, _("Not covered")), Geo.el("th", {}, _("Unreachable")),
                                  Geo.el("th", {}, _("Share covered")))),
    Geo.el("tbody", {}, rows)));
  const reasons = Object.entries(result.unreachable_by_reason || {});
  if (reasons.length) {
    box.append(Geo.el("p", {class: "small"}, _("Demand points no road reaches: {list}",
      {list: reasons.map(([reason, n]) => reason.replace(/_/g, " ") + " " + n).join(", ")})));
  }
  const last = summary.length ? summary[summary.length - 1].break : null;
  const over = (result.facilities || []).filter((f) => f.break === last && f.over_capacity);
  if (over.length) {
    box.append(Geo.el("p", {class: "small over-capacity"},
      _("{n} facilities would get more people than their capacity within {within}.",
        {n: over.length, within: Plan.breakLabel(last, unit)})));
  }
  const features = (result.features && result.features.features) || [];
  const max = Math.max(1, ...features.map((f) => Number(f.properties.population) || 0));
  const renderer = L.canvas({padding: 0.3});
  const layer = L.geoJSON(result.features, {
    pointToLayer: (feature, latlng) => L.circleMarker(latlng, {
      renderer, radius: 3 + 5 * Math.sqrt((Number(feature.properties.population) || 0) / max),
      color: "#8c510a", weight: 1, fillColor: "#f6c25b", fillOpacity: 0.85}),
    onEachFeature: (feature, marker) => marker.bindPopup(() => Geo.el("div", {class: "popup"},
      Geo.el("strong", {}, _("Not covered within {within}", {within: Plan.breakLabel(last, unit)})),
      Geo.el("div", {}, _("{n} people", {n: Plan.number(Number(feature.properties.population) || 0)})),
      Geo.el("div", {class: "small"}, feature.properties.cost === null || feature.properties.cost === undefined
        ? _("no facility within reach") : _("nearest facility: {time}", {time: Geo.minutes(feature.properties.cost)})))),
  });
  Geo.addResult("uncovered", _("Uncovered population"), layer);
  box.append(Geo.el("p", {class: "uncovered-count", dataset: {count: features.length}},
    _("{n} demand points not covered within {within} are shown on the map.",
      {n: Plan.number(features.length), within: last === null ? "" : Plan.breakLabel(last, unit)})),
    Geo.el("button", {type: "button", class: "link", onclick: () => {
      Geo.removeResult("uncovered"); Plan.shown.coverage = false; Geo.clear(box);
    }}, _("Remove from the map")));
  Plan.notes(box, result.notes);
};

Plan.changedNote = function () {
  return Geo.el("p", {class: "stale-note changed-note", hidden: true},
                _("The registry changed since this result: run it again to see the change."));
};

/* A result shown stays as computed; when the records it used change, it says so. */
Plan.registryChanged = function (name) {
  for (const kind of ["coverage", "service-areas"]) {
    const body = Plan.lastAreas && Plan.lastAreas[kind];
    if (!Plan.shown[kind] || !body) continue;
    if (name !== body.layer && name !== "population" && name !== "hazards") continue;
    const box = document.getElementById(kind === "coverage" ? "plan-coverage-result" : "plan-areas-result");
    const note = box.querySelector(".changed-note");
    if (note) note.hidden = false;
  }
};

Plan.notes = function (box, notes) {
  if (notes && notes.length) {
    box.append(Geo.el("details", {class: "small notes"}, Geo.el("summary", {}, _("Notes")),
                      notes.map((n) => Geo.el("p", {}, n))));
  }
};

Plan.rampColour = function (index, count) {
  if (count <= 1) return Plan.RAMP[0];
  const position = Math.round(index * (Plan.RAMP.length - 1) / (count - 1));
  return Plan.RAMP[position];
};

Plan.showServiceAreas = function (result, body, sent) {
  const box = Geo.clear(document.getElementById("plan-areas-result"));
  const breaks = result.breaks || [];
  const unit = result.unit;
  const colour = new Map(breaks.map((b, i) => [b, Plan.rampColour(i, breaks.length)]));
  // Largest first, so the smaller areas are drawn on top.
  const features = [...((result.features && result.features.features) || [])]
    .sort((a, b) => b.properties.to_break - a.properties.to_break);
  const layer = L.geoJSON({type: "FeatureCollection", features}, {
    style: (f) => ({color: colour.get(f.properties.to_break) || "#555", weight: 1,
                    fillOpacity: 0.15}),
    onEachFeature: (feature, area) => area.bindPopup(() => Geo.el("div", {class: "popup"},
      Geo.el("strong", {}, feature.properties.facility === null ? _("all facilities") :
        (Geo.layers[body.layer] && Geo.layers[body.layer].byId.get(feature.properties.facility)
         || {properties: {}}).properties.name || feature.properties.facility),
      Geo.el("div", {}, _("within {within}", {within: Plan.breakLabel(feature.properties.to_break, unit)})),
      Geo.el("div", {}, _("{n} people", {n: Plan.number(Number(feature.properties.population) || 0)})))),
  });
  Geo.addResult("service-areas", _("Service areas"), layer);
  const people = new Map();
  for (const area of result.areas || []) {
    people.set(area.to_break, (people.get(area.to_break) || 0) + 1);
  }
  box.dataset.stale = "false";
  box.append(Geo.el("h3", {}, _("Service areas")),
    Geo.el("p", {class: "small run-inputs"}, Plan.describeRun(body, sent)),
    Geo.el("p", {class: "stale-note", hidden: true},
           _("The barriers changed since this result: it is being recomputed.")),
    Plan.changedNote(),
    Geo.el("div", {class: "areas-legend"}, breaks.map((b) => Geo.el("div", {dataset: {break: b}},
      Geo.el("span", {class: "swatch", style: "background:" + colour.get(b)}),
      _("within {within}: {n} areas", {within: Plan.breakLabel(b, unit), n: people.get(b) || 0})))));
  const unreachable = result.unreachable_facilities || [];
  if (unreachable.length) {
    box.append(Geo.el("p", {class: "small"}, _("Not on the road network: {list}",
      {list: unreachable.map((u) => u.facility + " (" + u.reason.replace(/_/g, " ") + ")").join(", ")})));
  }
  box.append(Geo.el("button", {type: "button", class: "link", onclick: () => {
    Geo.removeResult("service-areas"); Plan.shown["service-areas"] = false; Geo.clear(box);
  }}, _("Remove from the map")));
  Plan.notes(box, result.notes);
};

/* ---- barriers ----------------------------------------------------------------------------- */

Plan.BARRIER_STYLE = {color: "#111", weight: 5, opacity: 0.9, dashArray: "8 5",
                      fillColor: "#333", fillOpacity: 0.35};

Plan.setupBarriers = function () {
  Geo.barriers = {type: "FeatureCollection", features: []};
  const group = L.featureGroup().addTo(Geo.map);
  Plan.barrierGroup = group;
  Geo.control.addOverlay(group, _("Temporary barriers"));
  if (!L.Control.Draw) return;  // the plugin is part of the page; without it, no drawing
  const tips = L.drawLocal.draw;
  tips.toolbar.buttons.polyline = _("Draw a closed road or bridge (a line)");
  tips.toolbar.buttons.polygon = _("Draw a flooded or closed area");
  tips.toolbar.actions.text = _("Cancel");
  tips.toolbar.actions.title = _("Cancel drawing");
  tips.toolbar.finish.text = _("Finish");
  tips.toolbar.finish.title = _("Finish drawing");
  tips.toolbar.undo.text = _("Delete last point");
  tips.toolbar.undo.title = _("Delete the last point drawn");
  tips.handlers.polyline.tooltip.start = _("Click where the closed road starts.");
  tips.handlers.polyline.tooltip.cont = _("Click to continue the line.");
  tips.handlers.polyline.tooltip.end = _("Click the last point again to finish.");
  tips.handlers.polygon.tooltip.start = _("Click to start the area.");
  tips.handlers.polygon.tooltip.cont = _("Click to continue the area.");
  tips.handlers.polygon.tooltip.end = _("Click the first point to close the area.");
  const edit = L.drawLocal.edit;
  edit.toolbar.buttons.edit = _("Change barriers");
  edit.toolbar.buttons.editDisabled = _("No barriers to change");
  edit.toolbar.buttons.remove = _("Remove barriers");
  edit.toolbar.buttons.removeDisabled = _("No barriers to remove");
  edit.toolbar.actions.save.text = _("Save");
  edit.toolbar.actions.save.title = _("Keep the changes");
  edit.toolbar.actions.cancel.text = _("Cancel");
  edit.toolbar.actions.cancel.title = _("Drop the changes");
  edit.toolbar.actions.clearAll.text = _("Clear all");
  edit.toolbar.actions.clearAll.title = _("Remove every barrier");
  edit.handlers.edit.tooltip.text = _("Drag the corners to change a barrier.");
  edit.handlers.edit.tooltip.subtext = _("Cancel to drop the changes.");
  edit.handlers.remove.tooltip.text = _("Click a barrier to remove it.");
  Plan.drawControl = new L.Control.Draw({
    position: "topleft",
    draw: {polyline: {shapeOptions: Plan.BARRIER_STYLE},
           polygon: {allowIntersection: false, showArea: false, shapeOptions: Plan.BARRIER_STYLE},
           rectangle: false, circle: false, marker: false, circlemarker: false},
    edit: {featureGroup: group, remove: true},
  });
  Geo.map.addControl(Plan.drawControl);
  const E = L.Draw.Event;
  Geo.map.on(E.CREATED, (e) => {
    if (Plan.drawTarget) {  // the footprint of a new record, not a barrier
      const layer = Plan.drawTarget;
      Plan.drawTarget = null;
      Plan.drawHandler = null;
      e.layer.options.interactive = false;
      Plan.placedGeometry(layer, e.layer.toGeoJSON().geometry, e.layer, _("an area drawn on the map"));
      return;
    }
    group.addLayer(e.layer);
    Plan.barriersChanged();
  });
  Geo.map.on(E.EDITED, () => Plan.barriersChanged());
  Geo.map.on(E.DELETED, () => Plan.barriersChanged());
  // While drawing, map clicks are points of the shape, not an incident or a new record.
  Geo.map.on(E.DRAWSTART + " " + E.EDITSTART + " " + E.DELETESTART, () => Plan.holdClicks(true));
  Geo.map.on(E.DRAWSTOP + " " + E.EDITSTOP + " " + E.DELETESTOP, () => Plan.holdClicks(false));
  // Result points drawn on a canvas (uncovered population) would take the pointer from the
  // drawing tool: Leaflet passes a canvas's pointer moves on at most every 32 ms, so the tool's
  // cursor lags behind a quick pointer and a press that lands on the canvas is lost as a point.
  const container = Geo.map.getContainer();
  Geo.map.on(E.DRAWSTART, () => container.classList.add("drawing-shape"));
  Geo.map.on(E.DRAWSTOP, () => container.classList.remove("drawing-shape"));
};

Plan.holdClicks = function (on) {
  Plan.drawing = on;
  const keep = () => { if (Plan.drawing) Geo.takeClick("draw", keep); };
  if (on) {
    Geo.takeClick("draw", keep);
  } else if (Geo.clickMode && Geo.clickMode.name === "draw") {
    Geo.releaseClick();
  }
};

Plan.clearBarriers = function () {
  if (!Plan.barrierGroup || Plan.barrierGroup.getLayers().length === 0) return;
  Plan.barrierGroup.clearLayers();
  Plan.barriersChanged();
};

/* Geo.barriers from the drawn shapes; tell the other scripts; rerun what used them. */
Plan.barriersChanged = function () {
  const features = [];
  Plan.barrierGroup.eachLayer((layer) => {
    const feature = layer.toGeoJSON();
    feature.properties = {};
    features.push(feature);
  });
  Geo.barriers = {type: "FeatureCollection", features};
  const count = document.getElementById("plan-barrier-count");
  if (count) {
    count.dataset.count = features.length;
    count.textContent = features.length
      ? _("{n} barrier(s) drawn: dispatch, coverage and service areas route around them.", {n: features.length})
      : _("No barriers drawn.");
  }
  document.querySelectorAll(".plan-barrier-note").forEach((n) => {
    n.textContent = features.length ? _("{n} barrier(s) will be applied.", {n: features.length}) : "";
  });
  Geo.emit("barriers", Geo.barriers);
};

Plan.rerunAfterBarriers = function () {
  const form = document.getElementById("plan-areas");
  for (const kind of ["coverage", "service-areas"]) {
    if (!Plan.shown[kind] || !Plan.lastAreas || !Plan.lastAreas[kind]) continue;
    const box = document.getElementById(kind === "coverage" ? "plan-coverage-result" : "plan-areas-result");
    box.dataset.stale = "true";
    const note = box.querySelector(".stale-note");
    if (note) note.hidden = false;
    if (Plan.running[kind]) {
      Plan.pending = Object.assign(Plan.pending || {}, {[kind]: true});
      continue;
    }
    Plan.runAreas(form, kind, Plan.lastAreas[kind]).then(() => {
      if (Plan.pending && Plan.pending[kind]) { Plan.pending[kind] = false; Plan.rerunAfterBarriers(); }
    });
  }
};

Plan.barriersSection = function () {
  return Plan.section(_("Temporary barriers"),
    Geo.el("p", {class: "small"},
      _("Draw with the tools on the left of the map: a line closes the roads it crosses (a closed bridge), an area closes the roads inside it (a flooded area). Barriers are not saved; dispatch, coverage and service areas use them while they are drawn.")),
    Geo.el("p", {id: "plan-barrier-count", dataset: {count: 0}}, _("No barriers drawn.")),
    Geo.el("button", {type: "button", id: "plan-clear-barriers", onclick: () => Plan.clearBarriers()},
           _("Clear barriers")));
};

/* ---- exposure ----------------------------------------------------------------------------- */

Plan.exposureSection = function () {
  const form = Geo.el("form", {id: "plan-exposure", novalidate: true},
    Geo.el("label", {for: "plan-exposure-hazard"}, _("Hazard")),
    Geo.el("select", {id: "plan-exposure-hazard", name: "hazard"}),
    Geo.el("div", {class: "form-error", role: "alert"}),
    Geo.el("button", {type: "submit", class: "primary"}, _("Run exposure")),
    Geo.el("div", {id: "plan-exposure-result", "aria-live": "polite"}));
  form.addEventListener("submit", (event) => { event.preventDefault(); Plan.runExposure(form); });
  return Plan.section(_("Exposure to a hazard"), form);
};

Plan.fillHazards = function () {
  const select = document.getElementById("plan-exposure-hazard");
  if (!select || !Geo.layers.hazards) return;
  const chosen = select.value;
  const hazards = [...Geo.layers.hazards.features].sort((a, b) =>
    String(a.properties.name || a.id).localeCompare(String(b.properties.name || b.id)));
  Geo.clear(select).append(...hazards.map((h) => Geo.el("option", {value: h.id, selected: h.id === chosen},
    (h.properties.name || h.id) + " · " + Geo.word("hazard_types", h.properties.type) +
    (h.properties.active === false ? " (" + _("inactive") + ")" : ""))));
};

Plan.runExposure = async function (form) {
  const id = form.elements.hazard.value;
  const box = Geo.clear(form.querySelector("#plan-exposure-result"));
  if (!id) return;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  Geo.status(_("Exposure: computing…"), {progress: 0.5});
  let result;
  try {
    result = await Geo.api("POST", "/api/exposure", {});
    Geo.status("");
  } catch (err) {
    Geo.showError(err);
    return;
  } finally {
    button.disabled = false;
  }
  const entry = (result.hazards || []).find((h) => h.hazard === id);
  const hazard = Geo.layers.hazards.byId.get(id);
  const name = (hazard && hazard.properties.name) || id;
  if (!entry) {
    box.append(Geo.el("p", {}, _("The analysis has no zone for {name}.", {name})));
    return;
  }
  const names = (layer, ids) => ids.map((i) => {
    const f = Geo.layers[layer] && Geo.layers[layer].byId.get(i);
    return (f && f.properties.name) || i;
  }).join(", ");
  const row = (key, label, value, list) => Geo.el("tr", {dataset: {key}},
    Geo.el("th", {}, label), Geo.el("td", {class: "num"}, value),
    Geo.el("td", {class: "small"}, list || ""));
  box.append(Geo.el("h3", {}, name),
    Geo.el("p", {class: "small"}, Geo.word("hazard_types", entry.type),
           entry.active ? "" : " · " + _("inactive: its zone does not close roads")),
    Geo.el("table", {class: "exposure-table", dataset: {hazard: id}},
      row("population", _("People inside"), Plan.number(entry.population)),
      row("shelters", Geo.layerLabel("shelters"), entry.shelters_count, names("shelters", entry.shelters_ids)),
      row("depots", Geo.layerLabel("depots"), entry.depots_count, names("depots", entry.depots_ids)),
      row("teams", Geo.layerLabel("teams"), entry.teams_count, names("teams", entry.teams_ids)),
      row("road_km", _("Roads inside"), Geo.km((Number(entry.road_km) || 0) * 1000))));
  const unsafe = (result.unsafe_shelters || []).filter((u) => u.hazard === id);
  box.append(Geo.el("h3", {}, _("Shelters too close to it")));
  if (unsafe.length) {
    box.append(Geo.el("table", {class: "unsafe-table"},
      Geo.el("thead", {}, Geo.el("tr", {}, Geo.el("th", {}, _("Shelter")), Geo.el("th", {}, _("Distance")),
                                    Geo.el("th", {}, _("Required")))),
      Geo.el("tbody", {}, unsafe.map((u) => Geo.el("tr", {dataset: {shelter: u.shelter}},
        Geo.el("td", {}, names("shelters", [u.shelter])),
        Geo.el("td", {class: "num"}, _("{n} m", {n: Plan.number(u.distance_m)})),
        Geo.el("td", {class: "num"}, _("{n} m", {n: Plan.number(u.required_m)})))))));
  } else {
    box.append(Geo.el("p", {class: "small unsafe-none"}, _("None within its safety distance.")));
  }
  const zone = ((result.features && result.features.features) || [])
    .filter((f) => f.properties.hazard === id);
  const layer = L.geoJSON({type: "FeatureCollection", features: zone},
                          {style: () => ({color: "#b2182b", weight: 4, fillOpacity: 0.15, dashArray: "6 4"})});
  Geo.addResult("exposure", _("Hazard zone (exposure)"), layer);
  if (zone.length) Geo.map.fitBounds(layer.getBounds(), {maxZoom: 16, padding: [30, 30]});
  Plan.notes(box, result.notes);
};

/* ---- the Planning tab ------------------------------------------------------------------- */

Plan.build = function () {
  const tab = Geo.clear(document.getElementById("tab-plan"));
  tab.append(Geo.el("h2", {}, _("Planning")));
  if (Geo.can("edit")) {
    tab.append(Plan.section(_("Records"),
      Geo.el("p", {class: "small"}, _("Add a record, then click the map where it goes. Edit, move or delete a record from its panel (click it on the map).")),
      Geo.el("div", {class: "plan-add-buttons"}, Plan.EDITABLE.map((layer) =>
        Geo.el("button", {type: "button", id: "plan-add-" + layer, dataset: {layer},
                          onclick: () => Plan.startAdd(layer)}, Plan.addLabel(layer)))),
      Geo.el("div", {class: "plan-add-buttons"}, Plan.EDITABLE
        .filter((layer) => Geo.schemas.layers[layer].geometry_types.includes("Polygon"))
        .map((layer) => Geo.el("button", {type: "button", id: "plan-draw-" + layer, dataset: {layer},
                                          onclick: () => Plan.startDrawAdd(layer)},
                               Plan.drawLabel(layer)))),
      Geo.el("div", {id: "plan-form-holder"})));
  }
  if (Geo.can("import")) tab.append(Plan.importSection());
  tab.append(Plan.areasSection(), Plan.barriersSection(), Plan.exposureSection());
};

Geo.on("ready", () => {
  if (!Geo.can("read")) return;
  for (const layer of Plan.EDITABLE) {
    (Geo.recordActions[layer] = Geo.recordActions[layer] || []).push(Plan.recordActions(layer));
  }
  Plan.build();
  Plan.setupBarriers();
  Geo.on("layer", (name) => {
    if (name === "hazards") Plan.fillHazards();
    Plan.registryChanged(name);
  });
  Geo.on("barriers", () => Plan.rerunAfterBarriers());
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !Geo.clickMode) return;
    if (Geo.clickMode.name.startsWith("add-")) Plan.cancelAdd();
    else if (Geo.clickMode.name === "move") { Geo.releaseClick(); Plan.closeEdit(); Geo.status(""); }
  });
  Plan.fillHazards();
});
