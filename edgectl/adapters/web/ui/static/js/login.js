/* The login page: errors next to the field, lock-out shown with its remaining time. */
"use strict";
(() => {
  const { t, api, $, clearErrors, fieldError } = EC;
  const form = $("#login-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const username = $("#username").value.trim(), password = $("#password").value;
    if (!username) { fieldError(form, "username", t("Enter your login.")); return; }
    if (!password) { fieldError(form, "password", t("Enter your password.")); return; }
    $("#login-submit").disabled = true;
    try {
      const me = await api("POST", "/auth/login", { username, password }, { noRedirect: true });
      const next = new URLSearchParams(location.search).get("next");
      if (me.role === "factory") location.href = "/ui/wizard";
      else location.href = next && next.startsWith("/") && !next.startsWith("//") ? next : "/ui/dashboard";
    } catch (err) {
      if (err.status === 423) {
        const s = Math.ceil(err.problem.retry_after_s || 60);
        fieldError(form, "password", t("This account is locked after too many failed attempts. Try again in {s} s.", { s }));
      } else if (err.status === 401) {
        fieldError(form, "password", t("Wrong login or password."));
      } else if (err.status === 403) {
        fieldError(form, "username", t("This account may not use the dashboard."));
      } else {
        fieldError(form, "password", err.message);
      }
    } finally {
      $("#login-submit").disabled = false;
    }
  });
})();
