/* The first-boot wizard, in SPEC order; each step saves through the REST API. */
"use strict";
(() => {
  const { t, api, h, $, $$, flash, showError, clearErrors, fieldError, formData, badge, amps } = EC;
  const { field, select, zoneEditor, registerForm } = FORMS;
  const STEPS = [
    ["credentials", t("Credentials")], ["network", t("Network")], ["stations", t("Stations")], ["meters", t("Power meters")],
    ["zones", t("Zones")], ["assignment", t("Station assignment")], ["remote_supervision", t("Remote supervision")],
    ["load_shedding", t("Load shedding")], ["authentication", t("Authentication")], ["cards", t("Cards")],
  ];
  const role = document.body.dataset.role;
  const params = new URLSearchParams(location.search);
  let step = params.get("step") || (role === "factory" ? "credentials" : "network");
  const box = $("#step");

  function go(name) { location.href = "/ui/wizard?step=" + name; }
  function next() { const i = STEPS.findIndex(([k]) => k === step); if (i + 1 < STEPS.length) go(STEPS[i + 1][0]); else location.href = "/ui/dashboard"; }
  function nav() {
    const i = STEPS.findIndex(([k]) => k === step);
    $("#steps").replaceChildren(...STEPS.map(([k, label], j) => h("li", { class: j < i ? "done" : j === i ? "current" : "", dataset: { step: k } },
      role === "factory" ? `${j + 1}. ${label}` : h("a", { href: "/ui/wizard?step=" + k }, `${j + 1}. ${label}`))));
  }
  function frame(title, intro, body, save) {
    const form = h("form", { id: "step-form", novalidate: true }, body,
      h("p", { class: "error", dataset: { errorFor: "_form" } }),
      h("div", { class: "actions" }, save ? h("button", { type: "submit", class: "primary", id: "save-next" }, t("Save and continue")) : null,
        h("button", { type: "button", id: "skip", onclick: next }, save ? t("Skip") : t("Continue"))));
    if (save) form.addEventListener("submit", async (ev) => {
      ev.preventDefault(); clearErrors(form);
      try { if (await save(form) !== false) next(); } catch (err) { showError(form, err); }
    });
    box.replaceChildren(h("h2", {}, title), intro ? h("p", { class: "muted" }, intro) : "", form);
  }
  function notice(text) { return h("p", { class: "notice" }, text); }

  function policy(login, password) {
    if (password.length < 8 || !/[a-z]/.test(password) || !/[A-Z]/.test(password) || !/\d/.test(password) || !/[^A-Za-z0-9]/.test(password))
      return t("At least 8 characters with upper case, lower case, a digit and a special character.");
    if (password.toLowerCase() === login.toLowerCase()) return t("The password cannot be the login.");
    return null;
  }

  async function credentials() {
    if (role !== "factory") { frame(t("Credentials"), t("The Admin and User accounts exist. Manage them from Admin › Users."), h("div"), null); return; }
    const body = h("div", { class: "grid-form" },
      h("h3", {}, t("Administrator")), h("h3", {}, ""),
      field(t("Admin login"), h("input", { id: "admin-login", name: "admin_login", autocomplete: "off" }), "admin_login"),
      field(t("Admin password"), h("input", { id: "admin-password", name: "admin_password", type: "password", autocomplete: "new-password" }), "admin_password"),
      h("h3", {}, t("User")), h("h3", {}, ""),
      field(t("User login"), h("input", { id: "user-login", name: "user_login", autocomplete: "off" }), "user_login"),
      field(t("User password"), h("input", { id: "user-password", name: "user_password", type: "password", autocomplete: "new-password" }), "user_password"));
    frame(t("Credentials"), t("Create the installer's Admin account and the operators' User account. The factory account can do nothing else."), body, async (form) => {
      const v = formData(form);
      let bad = false;
      for (const who of ["admin", "user"]) {
        const login = v[who + "_login"].trim(), pw = v[who + "_password"];
        if (!/^[A-Za-z0-9._@-]{3,64}$/.test(login)) { fieldError(form, who + "_login", t("3 to 64 characters: letters, digits, . _ @ -")); bad = true; }
        else if (login.toLowerCase() === "admin") { fieldError(form, who + "_login", t("The login cannot be “admin”.")); bad = true; }
        const p = policy(login, pw);
        if (p) { fieldError(form, who + "_password", p); bad = true; }
      }
      if (bad) return false;
      try {
        await api("POST", "/wizard/credentials", { admin: { username: v.admin_login.trim(), password: v.admin_password }, user: { username: v.user_login.trim(), password: v.user_password } });
      } catch (err) {
        const m = err.message;
        if (m.startsWith("admin:")) fieldError(form, "admin_login", m); else if (m.startsWith("user:")) fieldError(form, "user_login", m);
        else if (/different logins|already exists/.test(m)) fieldError(form, "user_login", m); else throw err;
        return false;
      }
      // Continue as the new Admin: the factory account stops here.
      await api("POST", "/auth/logout", null, { noRedirect: true });
      await api("POST", "/auth/login", { username: v.admin_login.trim(), password: v.admin_password }, { noRedirect: true });
      return true;
    });
  }

  async function network() {
    const s = (await api("GET", "/settings")).site;
    const body = h("div", {}, notice(t("The box's IP settings (address, mask, gateway, DNS, proxy, DHCP range) are set in Admin › Network after the wizard; they apply on reboot.")),
      h("div", { class: "grid-form" },
        field(t("Site name"), h("input", { id: "site-name", name: "name", value: s.name || "" }), "name"),
        field(t("Time zone"), h("input", { id: "site-tz", name: "timezone", value: s.timezone || "Europe/Paris" }), "timezone", t("For example Europe/Paris")),
        field(t("IP address"), h("input", { id: "net-ip", value: location.hostname, disabled: true }), "ip")));
    frame(t("Network"), null, body, async (form) => { const v = formData(form); await api("PUT", "/settings", { name: v.name, timezone: v.timezone }); });
  }

  async function ensureZone() {
    const zones = await api("GET", "/zones");
    if (zones.length) return zones;
    await api("PUT", "/zones", [{ id: "site", name: t("Whole site"), max_current: 63 }]);
    return api("GET", "/zones");
  }

  async function stations() {
    const zones = await ensureZone();
    const detected = await api("GET", "/stations/detected");
    const refresh = () => stations();
    const rows = detected.map((d) => h("tr", { dataset: { detected: d.identity } }, h("td", {}, d.identity), h("td", {}, [d.vendor, d.model].filter(Boolean).join(" ")),
      h("td", {}, d.registered ? h("span", { class: "badge st-available" }, t("Registered")) : h("span", { class: "badge st-unknown" }, t("Not registered")))));
    const list = h("div", { id: "detected" }, rows.length ? EC.table([t("Identity"), t("Model"), t("State")], rows) : h("p", { class: "muted" }, t("No station has connected yet.")));
    const todo = detected.filter((d) => !d.registered);
    const regAll = h("button", { type: "button", id: "register-detected", class: "primary", disabled: todo.length ? null : true, onclick: async () => {
      try {
        const z = (zones.find((z0) => !zones.some((c) => c.parent === z0.id)) || zones[0]).id;
        for (const d of todo) await api("POST", "/stations", FORMS.stationEntry({ id: d.identity, name: d.identity, zone: z }));
        flash(t("{n} stations registered.", { n: todo.length })); refresh();
      } catch (err) { flash(err.message, "error"); }
    } }, t("Register every detected station"));
    const manual = registerForm("wizard", zones, refresh);
    frame(t("Stations"), t("Stations that connected to the box are listed here. Register them (a provisional zone holds them until the assignment step), or add one by hand."),
      h("div", {}, list, h("div", { class: "actions" }, regAll), h("h3", {}, t("Add a station by hand")), manual), null);
  }

  async function meters() {
    const list = await api("GET", "/meters");
    const rows = list.map((m) => h("tr", {}, h("td", {}, m.meter.id), h("td", {}, m.meter.model), h("td", {}, (m.meter.host || m.meter.serial_port || "") + (m.meter.port ? ":" + m.meter.port : "")),
      h("td", {}, m.health && m.health.ok ? h("span", { class: "badge st-available" }, t("Connected")) : h("span", { class: "badge st-offline" }, t("Not connected")))));
    frame(t("Power meters"), null, h("div", {}, notice(t("Meters are defined in the site file (Admin › System › site file import); this version's API cannot add them one by one. Their live state is shown here.")),
      rows.length ? EC.table([t("Meter"), t("Model"), t("Address"), t("State")], rows) : h("p", { class: "muted" }, t("No meter."))), null);
  }

  async function zones() {
    const holder = h("div");
    frame(t("Zones"), t("Build the tree: the site, its switchboards and the car parks (three levels at most). Stations go on zones without sub-zones."), holder, null);
    await zoneEditor(holder, null);
  }

  async function assignment() {
    const site = await api("GET", "/site");
    const parents = new Set(site.zones.map((z) => z.parent).filter(Boolean));
    const leaves = site.zones.filter((z) => !parents.has(z.id));
    const body = h("div", { class: "grid-form" }, site.stations.map((s) => field(s.name + " (" + s.id + ")",
      select("assign-" + s.id, s.id, leaves.map((z) => [z.id, z.name]), s.zone), s.id)));
    frame(t("Station assignment"), t("Put each station in the zone that feeds it."), body, async (form) => {
      const v = formData(form);
      for (const s of site.stations) if (v[s.id] !== s.zone) {
        try { await api("PUT", "/stations/" + encodeURIComponent(s.id), { ...s, zone: v[s.id] }); }
        catch (err) { fieldError(form, s.id, err.message); return false; }
      }
      // The wizard's provisional zone goes once it is empty.
      const now = await api("GET", "/site");
      if (now.zones.length > 1 && now.zones.some((z) => z.id === "site") && !now.stations.some((s) => s.zone === "site") && !now.zones.some((z) => z.parent === "site"))
        await api("PUT", "/zones", now.zones.filter((z) => z.id !== "site"));
      return true;
    });
  }

  async function remoteSupervision() {
    const s = (await api("GET", "/settings")).site, r = s.remote_energy || {};
    const body = h("div", {}, notice(t("The link to a charge-point operator is set in Admin › Remote supervision (stored only: this version does not relay to the CPO yet). Remote energy management is set here.")),
      h("div", { class: "grid-form" },
        field(t("Remote energy management"), h("input", { id: "rem-enabled", name: "enabled", type: "checkbox", checked: r.enabled }), "enabled"),
        field(t("Webservices login allowed to set setpoints"), h("input", { id: "rem-login", name: "login", value: r.login || "" }), "login"),
        field(t("Minimum update period (s)"), h("input", { id: "rem-period", name: "min_update_period_s", type: "number", value: r.min_update_period_s ?? 60 }), "min_update_period_s"),
        field(t("Heartbeat period (s)"), h("input", { id: "rem-hb", name: "heartbeat_s", type: "number", value: r.heartbeat_s ?? 600 }), "heartbeat_s"),
        field(t("Time synchronisation"), h("input", { id: "rem-time", name: "time_sync", type: "checkbox", checked: r.time_sync }), "time_sync")));
    frame(t("Remote supervision"), null, body, async (form) => {
      const v = formData(form);
      if (!v.login) delete v.login;
      await api("PUT", "/settings", { remote_energy: v });
    });
  }

  async function shedding() {
    const s = (await api("GET", "/settings")).site;
    const body = h("div", { class: "grid-form" },
      field(t("Minimum current"), select("min-current", "min_current", [["iec61851", t("6 A (IEC 61851)")], ["evze", t("10 A (EV/ZE)")]], s.min_current || "iec61851"), "min_current"),
      field(t("Who is suspended first"), select("priority", "shedding_priority", [["energy", t("the car that took the most energy")], ["duration", t("the car charging for the longest time")]], s.shedding_priority || "energy"), "shedding_priority"),
      field(t("Rotation (minutes)"), h("input", { id: "rotation", name: "rotation_minutes", type: "number", min: "0", value: s.rotation_minutes ?? 15 }), "rotation_minutes"),
      field(t("Consumption optimisation"), h("input", { id: "optim", name: "consumption_optimisation", type: "checkbox", checked: s.consumption_optimisation }), "consumption_optimisation"));
    frame(t("Load shedding"), null, body, async (form) => { await api("PUT", "/settings", formData(form)); });
  }

  async function authentication() {
    const zonesNow = await api("GET", "/zones");
    const modes = [["", t("inherit")], ["all_cards", t("any card")], ["known_cards", t("known cards only")], ["disabled", t("no authentication")]];
    const body = h("div", { class: "grid-form" }, zonesNow.map((z) => field(z.name, select("auth-" + z.id, z.id, modes, z.auth_mode || ""), z.id)));
    frame(t("Authentication"), t("How a charge is authorised in each zone."), body, async (form) => {
      const v = formData(form);
      await api("PUT", "/zones", zonesNow.map((z) => { const o = { ...z }; if (v[z.id]) o.auth_mode = v[z.id]; else delete o.auth_mode; return o; }));
    });
  }

  async function cards() {
    const list = await api("GET", "/cards?limit=1000");
    const body = h("div", {}, h("p", {}, t("{n} cards.", { n: list.length }), " ", h("a", { href: "/ui/cards" }, t("Open the cards page (import, bulk changes)"))),
      h("div", { class: "grid-form" }, field(t("Card id tag"), h("input", { id: "card-tag", name: "id_tag" }), "id_tag"),
        field(t("Comment"), h("input", { id: "card-comment", name: "comment" }), "comment")));
    frame(t("Cards"), null, body, async (form) => {
      const v = formData(form);
      if (v.id_tag.trim()) await api("POST", "/cards", { id_tag: v.id_tag.trim(), comment: v.comment, authorized: true });
      flash(t("The site is commissioned."));
    });
    $("#save-next").textContent = t("Finish");
  }

  const RUN = { credentials, network, stations, meters, zones, assignment, remote_supervision: remoteSupervision,
    load_shedding: shedding, authentication, cards };
  if (!RUN[step]) step = "credentials";
  nav();
  RUN[step]().catch((e) => flash(e.message, "error"));
  void $$; void badge; void amps;
})();
