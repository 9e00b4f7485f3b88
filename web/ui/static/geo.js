/* The map UI's core: translation, DOM building that never parses data as HTML, calls to the
 * REST API (session cookie + CSRF token, errors as ApiError), jobs, the status line, tabs, and
 * the one map-click handler the kinds of work take turns on.
 *
 * Rule for every script of the page: text from the registry or a user (names, notes, errors)
 * goes into the page only as text (Geo.el children, textContent), never through innerHTML.
 */
"use strict";

const Geo = {
  map: null,            // the Leaflet map
  control: null,        // the layer control
  config: {},           // from the page: lang, bounds, root
  session: null,        // GET /api/session: user, role, permissions, csrf_token
  schemas: null,        // GET /api/layers: fields, shelter classes, items
  listeners: {},
  clickMode: null,      // {name, handler(latlng)}: who gets the next map click
  defaultClick: null,   // the dispatcher's click, when no other mode is on
  barriers: null,       // FeatureCollection of drawn temporary barriers (planner.js)
  i18n: {messages: {}, words: {}},
};

/* ---- translation ------------------------------------------------------------------------ */

/* _("Text {name}", {name: "x"}): the message in the page's language, values filled in. */
function _(message, values) {
  let text = Geo.i18n.messages[message] || message;
  if (values) {
    text = text.replace(/\{(\w+)\}/g, (whole, key) => key in values ? String(values[key]) : whole);
  }
  return text;
}

/* A word of the registry (status, type, field name) in the page's language. */
Geo.word = function (vocabulary, key) {
  if (key === null || key === undefined) return "";
  return Geo.i18n.words[vocabulary + "|" + key] || String(key);
};

/* Which vocabulary a field's values belong to, per layer (for Geo.word). */
Geo.VOCABULARY = {
  shelters: {status: "shelter_statuses"},
  teams: {type: "team_types", status: "team_statuses"},
  hazards: {type: "hazard_types"},
  incidents: {type: "incident_types", status: "incident_statuses"},
};

/* A field's value as shown: vocabulary words, shelter classes and items by their names. */
Geo.showValue = function (layer, field, value) {
  if (value === null || value === undefined || value === "") return "";
  const vocab = (Geo.VOCABULARY[layer] || {})[field];
  if (vocab) return Geo.word(vocab, value);
  if (field === "shelter_class") return Geo.className(value);
  if (typeof value === "boolean") return value ? _("yes") : _("no");
  if (Array.isArray(value)) return value.join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
};

Geo.className = function (key) {
  const c = Geo.schemas && Geo.schemas.shelter_classes[key];
  return c ? (Geo.config.lang === "zh" ? c.zh : c.en) : String(key);
};

Geo.itemName = function (key) {
  const item = Geo.schemas && Geo.schemas.items[key];
  return item ? (Geo.config.lang === "zh" ? item.zh : item.en) : String(key);
};

Geo.minutes = function (seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
  return _("{n} min", {n: (seconds / 60).toFixed(1)});
};

Geo.km = function (metres) {
  if (metres === null || metres === undefined || !isFinite(metres)) return "–";
  return _("{n} km", {n: (metres / 1000).toFixed(2)});
};

/* A problem as the server words it ("-5 is negative (must be ≥ 0)") in the page's language,
 * the value kept (the patterns come with the page: web/ui/problems.py). */
Geo.translateProblem = function (text) {
  for (const {pattern, message} of Geo.config.problems || []) {
    const found = new RegExp(pattern, "u").exec(text);
    if (found) {
      return message.replace(/\{(\w+)\}/g, (whole, key) =>
        found.groups && key in found.groups ? found.groups[key] : whole);
    }
  }
  return text;
};

/* ---- DOM -------------------------------------------------------------------------------- */

/* el("tr", {class: "x", onclick: fn, dataset: {id: 1}}, "text", child, [more]) — children are
 * nodes or text (always text: never parsed as HTML). */
Geo.el = function (tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (key === "text") {
      node.textContent = value;
    } else if (value === true) {
      node.setAttribute(key, "");
    } else {
      node.setAttribute(key, String(value));
    }
  }
  Geo.append(node, children);
  return node;
};

Geo.append = function (node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
};

Geo.clear = function (node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
};

/* ---- the API ---------------------------------------------------------------------------- */

/* What went wrong, in the page's language, by the error's code; the server's own message (in
 * English, naming the field and the value) follows it. */
Geo.ERROR_LEADS = {
  invalid: () => _("Not accepted"),
  rows_rejected: () => _("The file was not imported"),
  not_found: () => _("Not found"),
  conflict: () => _("Someone else was first"),
  precondition_failed: () => _("Changed by someone else meanwhile"),
  forbidden: () => _("Not allowed for your role"),
  unauthorized: () => _("Please sign in"),
  busy: () => _("The registry is busy; try again"),
  bad_credentials: () => _("Wrong user name or password"),
  too_many_attempts: () => _("Too many attempts; wait a minute"),
  password_change_required: () => _("Choose your own password first"),
};

// Errors whose lead says it all (the server's detail would repeat it in English).
Geo.SELF_EXPLAINED = ["bad_credentials", "unauthorized", "password_change_required"];

class ApiError extends Error {
  constructor(status, error) {
    const code = error && error.code;
    const lead = code && Geo.ERROR_LEADS[code];
    let detail = (error && error.message) || _("The service did not answer ({status}).", {status});
    if (error && error.field && detail.startsWith(error.field + ": ")) {
      detail = detail.slice(error.field.length + 2);  // the field is named in the page's words
      if (error.problems && error.problems.length === 1) detail = error.problems[0].problem;
      detail = Geo.translateProblem(detail);
    }
    const field = error && error.field ? Geo.word("fields", error.field) : "";
    let text = detail;
    if (lead && Geo.SELF_EXPLAINED.includes(code)) text = lead();
    else if (lead) text = lead() + (field ? " (" + field + ")" : "") + ": " + detail;
    super(text);
    this.detail = detail;
    this.status = status;
    this.code = error && error.code;
    this.field = error && error.field;
    this.current = error && error.current;
    this.holder = error && error.holder;
    this.problems = (error && error.problems) || [];
  }
}

/* api("POST", "/api/dispatch", body) → the JSON answer; throws ApiError. ``options.headers``
 * adds headers; ``options.raw`` returns the Response (ETag needed). A FormData body is sent as
 * a multipart form. */
Geo.api = async function (method, path, body, options) {
  options = options || {};
  const headers = Object.assign({Accept: "application/json"}, options.headers || {});
  if (method !== "GET" && Geo.session && Geo.session.csrf_token) {
    headers["X-CSRF-Token"] = Geo.session.csrf_token;
  }
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined && body !== null) {
    headers["Content-Type"] = options.contentType || "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  Geo.working(+1, options.background);
  try {
    response = await fetch(Geo.config.root + path, {method, headers, body: payload,
                                                     credentials: "same-origin"});
  } catch (err) {
    throw new ApiError(0, {message: _("The service cannot be reached.")});
  } finally {
    Geo.working(-1, options.background);
  }
  if (response.status === 401 && !options.quiet401) {
    window.location.assign(Geo.config.root + "/login?next=" + encodeURIComponent(location.pathname));
  }
  if (options.raw && response.ok) return response;
  if (response.status === 204) return null;
  let data = null;
  try { data = await response.json(); } catch (err) { data = null; }
  if (!response.ok) throw new ApiError(response.status, data && data.error);
  return data;
};

/* "Working…" in the top bar while a request the user made is under way (not the polls). */
Geo.inFlight = 0;
Geo.working = function (delta, background) {
  if (background) return;
  Geo.inFlight += delta;
  const busy = document.getElementById("busy");
  if (busy) busy.hidden = Geo.inFlight <= 0;
};

/* Every feature of a layer (all pages). */
Geo.features = async function (layer) {
  let path = "/collections/" + encodeURIComponent(layer) + "/items?limit=5000";
  const features = [];
  while (path) {
    const page = await Geo.api("GET", path);
    features.push(...page.features);
    const next = (page.links || []).find((l) => l.rel === "next");
    path = next ? new URL(next.href, location.href).pathname + new URL(next.href, location.href).search : null;
  }
  return features;
};

/* Start a job (POST → 202), show its progress on the status line, and return its result. */
Geo.runJob = async function (path, body, label) {
  const accepted = await Geo.api("POST", path, body);
  const href = new URL(accepted.href, location.href).pathname;
  for (;;) {
    const job = await Geo.api("GET", href);
    if (job.status === "done") { Geo.status(""); return job.result; }
    if (job.status === "failed" || job.status === "lost") {
      Geo.status("");
      throw new ApiError(422, {message: (job.error && job.error.message) || job.status,
                               code: job.status});
    }
    const percent = Math.round(100 * (job.progress || 0));
    Geo.status(_("{what}: {percent}% ({step})", {what: label, percent,
                                                step: job.message || Geo.word("job_statuses", job.status)}),
               {progress: job.progress || 0});
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
};

/* ---- status line, errors next to fields --------------------------------------------------- */

Geo.status = function (message, options) {
  const box = document.getElementById("status");
  if (!box) return;
  Geo.clear(box);
  box.className = options && options.error ? "error" : "";
  if (!message) { box.hidden = true; return; }
  box.hidden = false;
  box.append(document.createTextNode(message));
  if (options && options.progress !== undefined) {
    box.append(Geo.el("progress", {max: 1, value: options.progress}));
  }
  if (options && options.error) {
    box.append(Geo.el("button", {type: "button", class: "link", onclick: () => Geo.status("")}, "×"));
  }
};

Geo.showError = function (err) {
  Geo.status(err.message || String(err), {error: true});
};

/* Show an API error next to the form field it names (an element with data-error-for=field),
 * or at the form's .form-error. Returns true when the error was shown in the form. */
Geo.formError = function (form, err) {
  Geo.clearErrors(form);
  // Several fields wrong at once: each problem next to its field, in the page's language.
  const placed = (err.problems || []).filter((p) => p.field && p.problem &&
    form.querySelector('[data-error-for="' + CSS.escape(p.field) + '"]'));
  if (placed.length > 1) {
    for (const p of placed) {
      const target = form.querySelector('[data-error-for="' + CSS.escape(p.field) + '"]');
      target.textContent = Geo.translateProblem(p.problem);
      target.hidden = false;
      const input = form.querySelector('[name="' + CSS.escape(p.field) + '"]');
      if (input) input.setAttribute("aria-invalid", "true");
    }
    return true;
  }
  const field = err.field && form.querySelector('[data-error-for="' + CSS.escape(err.field) + '"]');
  const target = field || form.querySelector(".form-error");
  if (!target) { Geo.showError(err); return false; }
  target.textContent = err.message;
  target.hidden = false;
  const input = err.field && form.querySelector('[name="' + CSS.escape(err.field) + '"]');
  if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  return true;
};

Geo.clearErrors = function (form) {
  form.querySelectorAll(".field-error, .form-error").forEach((n) => { n.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
};

/* ---- events, tabs, permissions ------------------------------------------------------------ */

Geo.on = function (event, handler) {
  (Geo.listeners[event] = Geo.listeners[event] || []).push(handler);
};

Geo.emit = function (event, data) {
  for (const handler of Geo.listeners[event] || []) {
    try { handler(data); } catch (err) { console.error(err); }
  }
};

Geo.can = function (permission) {
  return Boolean(Geo.session && Geo.session.permissions.includes(permission));
};

Geo.showTab = function (name) {
  document.querySelectorAll("#panel .tab").forEach((t) => { t.hidden = t.id !== "tab-" + name; });
  document.querySelectorAll("#panel .tabs [data-tab]").forEach((b) => {
    b.setAttribute("aria-selected", String(b.dataset.tab === name));
  });
  return document.getElementById("tab-" + name);
};

/* The next map click goes to ``handler`` (a planner placing a record), then back to the
 * dispatcher's click. */
Geo.takeClick = function (name, handler) {
  Geo.clickMode = {name, handler};
  Geo.map.getContainer().classList.add("placing");
};

Geo.releaseClick = function () {
  Geo.clickMode = null;
  Geo.map.getContainer().classList.remove("placing");
};

/* ---- start ------------------------------------------------------------------------------ */

Geo.start = async function (map, control, config, i18n) {
  Geo.map = map;
  Geo.control = control;
  Geo.config = config;
  Geo.i18n = i18n;
  document.querySelectorAll("#panel .tabs [data-tab]").forEach((b) => {
    b.addEventListener("click", () => Geo.showTab(b.dataset.tab));
  });
  Geo.showTab("dispatch");
  map.on("click", (e) => {
    if (Geo.clickMode) {
      const mode = Geo.clickMode;
      Geo.releaseClick();
      mode.handler(e.latlng);
    } else if (Geo.defaultClick) {
      Geo.defaultClick(e.latlng);
    }
  });
  document.getElementById("logout").addEventListener("click", async () => {
    try { await Geo.api("DELETE", "/api/session"); } finally {
      window.location.assign(Geo.config.root + "/login");
    }
  });
  try {
    Geo.session = await Geo.api("GET", "/api/session");
    Geo.schemas = await Geo.api("GET", "/api/layers");
  } catch (err) {
    Geo.showError(err);
    return;
  }
  const who = document.getElementById("user-box");
  who.textContent = Geo.session.user
    ? _("{user} ({role})", {user: Geo.session.user, role: Geo.word("roles", Geo.session.role)})
    : _("not signed in");
  document.body.dataset.role = Geo.session.role || "anonymous";
  Geo.emit("ready");
  document.body.dataset.ready = "true";
};

/* Set by the login page too (no map there). */
Geo.loadPageMessages = function () {
  const node = document.getElementById("geo-i18n");
  if (!node) return;
  Geo.i18n = JSON.parse(node.textContent);
  Geo.config.problems = Geo.i18n.problems || [];
};
