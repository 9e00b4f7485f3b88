/* The sign-in page: sign in (POST /api/session with the CSRF token of GET /api/session), then,
 * after a one-time password, choose one's own; then the map (or the page asked for). */
"use strict";

Geo.config = {root: ""};
Geo.loadPageMessages();

async function signedIn(state) {
  if (state.must_change_password) {
    document.getElementById("login-form").hidden = true;
    document.getElementById("password-form").hidden = false;
    return;
  }
  const next = new URLSearchParams(location.search).get("next");
  // Only a path of this site (never //host or a scheme).
  window.location.assign(next && /^\/(?!\/)/.test(next) ? next : "/");
}

function submitter(formId, send) {
  const form = document.getElementById(formId);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    Geo.clearErrors(form);
    const values = Object.fromEntries(new FormData(form).entries());
    try {
      Geo.session = await Geo.api("GET", "/api/session", null, {quiet401: true});
      await signedIn(await send(values));
    } catch (err) {
      Geo.formError(form, err);
    }
  });
}

submitter("login-form", (v) => Geo.api("POST", "/api/session", {name: v.name, password: v.password},
                                       {quiet401: true}));
submitter("password-form", (v) => Geo.api("POST", "/api/session/password",
                                          {current: v.current, new: v.new}, {quiet401: true}));
