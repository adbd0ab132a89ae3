/* Admin pages about operations: meters, users, station installation, logs,
   maintenance report, system (version, wizard, site file); and "my password". */
"use strict";
(() => {
  const { t, api, h, $, flash, showError, clearErrors, fieldError, when, amps, badge } = EC;
  const box = $("#admin-body");
  const page = document.body.dataset.page;
  const ok = (yes, on, off) => h("span", { class: "badge " + (yes ? "st-available" : "st-offline") }, yes ? on : off);

  async function meters() {
    const MFIELDS = [["id", t("Meter")], ["name", t("Name")], ["model", t("Model")], ["transport", t("Transport")], ["host", t("Host")], ["port", t("Port")],
      ["unit_id", t("Modbus unit id")], ["serial_port", t("Serial port")], ["baudrate", t("Baud rate")]];
    const NUMS = ["port", "unit_id", "baudrate"];
    const form = h("form", { class: "grid-form", id: "meter-form", novalidate: true },
      MFIELDS.map(([k, l]) => k === "transport" ? FORMS_FIELD(l, h("select", { id: "m-" + k, name: k }, [["tcp", "Modbus TCP"], ["rtu", "Modbus RTU"]].map(([v, x]) => h("option", { value: v }, x))), k)
        : FORMS_FIELD(l, h("input", { id: "m-" + k, name: k, type: NUMS.includes(k) ? "number" : "text" }), k)),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "meter-save" }, t("Save the meter")), h("button", { type: "reset", id: "meter-new" }, t("New meter"))),
      h("p", { class: "error", dataset: { errorFor: "_form" } }));
    let editing = null;
    form.addEventListener("reset", () => { editing = null; $("#m-id").disabled = false; });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault(); clearErrors(form);
      const v = {};
      for (const [k] of MFIELDS) { const el = $("#m-" + k); if (el.value !== "") v[k] = NUMS.includes(k) ? Number(el.value) : el.value; }
      if (editing) v.id = editing;
      try {
        const r = editing ? await api("PUT", "/meters/" + encodeURIComponent(editing), v) : await api("POST", "/meters", v);
        flash(t("Saved.") + " " + t("Restart the controller for meter changes to take effect.")); form.reset(); await draw(); void r;
      } catch (err) { showError(form, err); }
    });
    const draw = async () => {
      const list = await api("GET", "/meters");
      const rows = list.map((m) => h("tr", { dataset: { meter: m.meter.id } }, h("td", {}, m.meter.id), h("td", {}, m.meter.model),
        h("td", {}, (m.meter.host || m.meter.serial_port || "") + (m.meter.port ? ":" + m.meter.port : "")), h("td", {}, m.zone || "–"),
        h("td", {}, ok(m.health && m.health.state === "connected", t("Connected"), m.health ? t("Not connected") : t("Not polled yet (restart)"))),
        h("td", { class: "num" }, m.current ? m.current.map((x) => EC.num(x, 1)).join(" / ") + " A" : "–"),
        h("td", {}, h("button", { type: "button", dataset: { edit: m.meter.id }, onclick: () => {
          form.reset(); editing = m.meter.id;
          for (const [k] of MFIELDS) { const el = $("#m-" + k); el.value = m.meter[k] ?? (k === "transport" ? "tcp" : ""); }
          $("#m-id").disabled = true; form.scrollIntoView();
        } }, t("Edit")), " ", h("button", { type: "button", class: "danger", dataset: { remove: m.meter.id }, onclick: async () => {
          if (!confirm(t("Remove meter {id}?", { id: m.meter.id }))) return;
          try { await api("DELETE", "/meters/" + encodeURIComponent(m.meter.id)); flash(t("Removed.") + " " + t("Restart the controller for meter changes to take effect.")); await draw(); }
          catch (e) { flash(e.message, "error"); } } }, t("Remove")))));
      $("#meter-list").replaceChildren(rows.length ? EC.table([t("Meter"), t("Model"), t("Address"), t("Zone"), t("State"), t("Current per phase"), ""], rows, { id: "meters-table" }) : h("p", { class: "muted" }, t("No meter.")));
    };
    // Meter models: the built-in register maps and the custom ones (TOML files, docs/meters.md).
    const modelForm = h("form", { id: "model-import", novalidate: true },
      FORMS_FIELD(t("Import a custom model (TOML file, id custom:<name>)"), h("input", { id: "model-file", type: "file", accept: ".toml,text/plain" }), "file"),
      h("div", { class: "actions" }, h("button", { type: "submit", id: "model-import-submit" }, t("Import the model"))));
    const drawModels = async () => {
      const models = await api("GET", "/meter-models");
      $("#model-options").replaceChildren(...models.map((m) => h("option", { value: m.id }, m.name)));
      const rows = models.map((m) => h("tr", { dataset: { model: m.id } }, h("td", {}, m.id), h("td", {}, m.name), h("td", {}, m.vendor || ""),
        h("td", {}, h("span", { class: "chip" }, m.custom ? t("Custom") : t("Built-in"))), h("td", {}, m.used_by.join(", ")),
        h("td", {}, h("a", { class: "button small", href: "/api/v1/meter-models/" + encodeURIComponent(m.id) + "/export", download: m.id.replace(":", "-") + ".toml", dataset: { export: m.id } }, t("Export (TOML)")),
          m.custom ? [" ", h("button", { type: "button", class: "danger small", dataset: { removeModel: m.id }, onclick: async () => {
            if (!confirm(t("Remove model {id}?", { id: m.id }))) return;
            try { await api("DELETE", "/meter-models/" + encodeURIComponent(m.id)); flash(t("Removed.") + " " + t("Restart the controller for meter changes to take effect.")); await drawModels(); }
            catch (e) { flash(e.message, "error"); } } }, t("Remove"))] : null)));
      $("#model-list").replaceChildren(EC.table([t("Model"), t("Name"), t("Vendor"), t("Kind"), t("Used by"), ""], rows, { id: "models-table" }));
    };
    modelForm.addEventListener("submit", async (ev) => {
      ev.preventDefault(); clearErrors(modelForm);
      const file = $("#model-file").files[0];
      if (!file) { fieldError(modelForm, "file", t("Choose a file.")); return; }
      const text = await file.text();
      const id = (text.match(/^\s*id\s*=\s*"([^"]*)"/m) || [])[1] || "";
      if (!id.startsWith("custom:")) { fieldError(modelForm, "file", t("The file's id must be custom:<name>.")); return; }
      try { await api("PUT", "/meter-models/" + encodeURIComponent(id), text); flash(t("Model {id} imported.", { id }) + " " + t("Restart the controller for meter changes to take effect.")); modelForm.reset(); await drawModels(); }
      catch (err) { fieldError(modelForm, "file", (err.problem.errors || [err.message]).join("\n")); }
    });
    $("#m-model", form).setAttribute("list", "model-options");
    box.replaceChildren(h("p", { class: "notice", id: "meters-restart" }, t("Meter changes are saved at once but the controller polls the meters it started with: restart it (Admin › System › Reboot) for a change to take effect. The live state refreshes every 5 s.")),
      h("div", { id: "meter-list" }), h("h3", {}, t("Add or edit a meter")), form, h("datalist", { id: "model-options" }),
      h("h3", {}, t("Meter models")), h("div", { id: "model-list" }), modelForm);
    await Promise.all([draw(), drawModels()]); setInterval(() => draw().catch(() => {}), 5000);
  }

  async function users() {
    const [list, zones] = await Promise.all([api("GET", "/users"), api("GET", "/zones")]);
    const rows = list.map((u) => h("tr", { dataset: { user: u.username } }, h("td", {}, u.username), h("td", {}, u.role), h("td", {}, u.zone_scope || t("whole site")),
      h("td", {}, u.locked_until ? t("locked until {t}", { t: when(u.locked_until) }) : ""),
      h("td", {}, h("button", { type: "button", class: "danger", onclick: async () => {
        if (!confirm(t("Delete user {u}?", { u: u.username }))) return;
        try { await api("DELETE", "/users/" + encodeURIComponent(u.username)); users(); } catch (e) { flash(e.message, "error"); } } }, t("Delete")))));
    const form = h("form", { class: "grid-form", novalidate: true },
      FORMS_FIELD(t("Login"), h("input", { id: "u-name", name: "username" }), "username"),
      FORMS_FIELD(t("Password"), h("input", { id: "u-pw", name: "password", type: "password", autocomplete: "new-password" }), "password"),
      FORMS_FIELD(t("Profile"), h("select", { id: "u-role", name: "role" }, [["user", t("User")], ["admin", t("Administrator")], ["webservices", t("Webservices")]].map(([v, l]) => h("option", { value: v }, l))), "role"),
      FORMS_FIELD(t("Limited to zone"), h("select", { id: "u-scope", name: "zone_scope" }, [["", t("whole site")], ...zones.map((z) => [z.id, z.name])].map(([v, l]) => h("option", { value: v }, l))), "zone_scope"),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("Add the user"))), h("p", { class: "error", dataset: { errorFor: "_form" } }));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault(); clearErrors(form);
      const v = EC.formData(form);
      if (!v.zone_scope) v.zone_scope = null;
      try { await api("POST", "/users", v); flash(t("Saved.")); users(); }
      catch (err) { if (err.status === 422 && !/zone_scope/.test(err.message)) fieldError(form, /login/i.test(err.message) && !/password/i.test(err.message) ? "username" : "password", err.message); else showError(form, err); }
    });
    box.replaceChildren(EC.table([t("Login"), t("Profile"), t("Domain"), t("Lock-out"), ""], rows), h("h3", {}, t("Add a user")), form);
  }
  function FORMS_FIELD(label, input, name) {
    return h("div", { class: "field" }, h("label", { for: input.id }, label), input, h("p", { class: "error", dataset: { errorFor: name } }));
  }

  async function installation() {
    const [detected, zones, registered] = await Promise.all([api("GET", "/stations/detected"), api("GET", "/zones"), api("GET", "/stations")]);
    const filter = h("select", { id: "inst-filter" }, [["all", t("all")], ["new", t("not registered")], ["reg", t("registered")]].map(([v, l]) => h("option", { value: v }, l)));
    const parents = new Set(zones.map((z) => z.parent).filter(Boolean));
    const leaves = zones.filter((z) => !parents.has(z.id));
    const tbody = h("tbody", {});
    const draw = () => tbody.replaceChildren(...detected.filter((d) => filter.value === "all" || (filter.value === "new") !== d.registered).map((d) => h("tr", { dataset: { detected: d.identity } },
      h("td", {}, d.identity), h("td", {}, [d.vendor, d.model].filter(Boolean).join(" ")), h("td", {}, d.serial || ""), h("td", {}, d.firmware || ""),
      h("td", {}, d.remote_address || ""), h("td", {}, when(d.last_seen)),
      h("td", {}, d.registered ? ok(true, t("Registered"), "") : h("button", { type: "button", onclick: () => { $("#manual").replaceChildren(FORMS.registerForm("inst", leaves, installation, d)); $("#manual").scrollIntoView(); } }, t("Register"))))));
    filter.addEventListener("change", draw); draw();
    const regRows = registered.map((s) => h("tr", {}, h("td", {}, h("a", { href: "/ui/station/" + encodeURIComponent(s.station.id) }, s.station.id)), h("td", {}, s.station.name),
      h("td", {}, s.station.zone), h("td", {}, s.online ? ok(true, t("Online"), "") : badge(null, false)),
      h("td", {}, h("button", { type: "button", class: "danger", onclick: async () => {
        if (!confirm(t("Remove station {id} from the site?", { id: s.station.id }))) return;
        try { await api("DELETE", "/stations/" + encodeURIComponent(s.station.id)); installation(); } catch (e) { flash(e.message, "error"); } } }, t("Remove")))));
    box.replaceChildren(h("h3", {}, t("Detected stations")), h("label", {}, t("Show") + " ", filter),
      h("div", { class: "table-wrap" }, h("table", { id: "detected-table" }, h("thead", {}, h("tr", {}, [t("Identity"), t("Model"), t("Serial number"), t("Firmware"), t("Address"), t("Last seen"), ""].map((x) => h("th", {}, x)))), tbody)),
      h("h3", {}, t("Registered stations")), EC.table([t("Identity"), t("Name"), t("Zone"), t("Connection"), ""], regRows),
      h("h3", {}, t("Add a station by hand")), h("div", { id: "manual" }, FORMS.registerForm("inst", leaves, installation)));
  }

  async function logs() {
    const f = $("#log-filter");
    const draw = async () => {
      const q = new URLSearchParams({ limit: "200" });
      for (const k of ["type", "source", "zone", "text"]) if (f[k].value.trim()) q.set(k, f[k].value.trim());
      const qs = new URLSearchParams(q); qs.delete("limit");
      $("#log-csv").href = "/api/v1/events/export" + (qs.toString() ? "?" + qs : "");
      const list = await api("GET", "/events?" + q);
      $("#logs").replaceChildren(EC.table([t("Time"), t("Type"), t("Device"), t("Zone"), t("Message")], list.map((e) => h("tr", {},
        h("td", {}, when(e.at)), h("td", {}, h("span", { class: "chip" }, e.type)), h("td", {}, e.source || ""), h("td", {}, e.zone || ""), h("td", {}, e.message))), { id: "logs-table" }));
    };
    f.addEventListener("submit", (ev) => { ev.preventDefault(); draw().catch((e) => flash(e.message, "error")); });
    await draw();
  }

  async function maintenance() {
    $("#print").addEventListener("click", () => window.print());
    const [settings, stations, meters, events] = await Promise.all([api("GET", "/settings"), api("GET", "/stations"), api("GET", "/meters"), api("GET", "/events?limit=20&type=system")]);
    let status = null;
    try { status = await api("GET", "/status"); } catch (e) { status = null; }
    box.replaceChildren(
      h("h3", {}, t("Controller")), h("dl", { class: "facts" }, h("dt", {}, t("Site name")), h("dd", {}, settings.site.name || "–"),
        h("dt", {}, t("Version")), h("dd", {}, $("footer").textContent.split("·")[0].trim()), h("dt", {}, t("Report time")), h("dd", {}, when(new Date().toISOString())),
        h("dt", {}, t("Last control cycle")), h("dd", {}, status ? when(status.time) : t("not running"))),
      h("h3", {}, t("Stations")), EC.table([t("Identity"), t("Zone"), t("Connection"), t("Connectors")], stations.map((s) => h("tr", {}, h("td", {}, s.station.id), h("td", {}, s.station.zone),
        h("td", {}, s.online ? ok(true, t("Online"), "") : badge(null, false)), h("td", {}, s.connectors.map((c) => badge(c.status, s.online)))))),
      h("h3", {}, t("Power meters")), EC.table([t("Meter"), t("State"), t("Current per phase")], meters.map((m) => h("tr", {}, h("td", {}, m.meter.id),
        h("td", {}, ok(m.health && m.health.state === "connected", t("Connected"), t("Not connected"))), h("td", {}, m.current ? m.current.map((x) => amps(x)).join(" / ") : "–")))),
      h("h3", {}, t("Recent system events")), EC.table([t("Time"), t("Message")], events.map((e) => h("tr", {}, h("td", {}, when(e.at)), h("td", {}, e.message)))));
  }

  async function system() {
    $("#reboot").addEventListener("click", async () => {
      if (!confirm(t("Reboot the box now? Charging continues on the stations' fallback limits meanwhile."))) return;
      try { await api("POST", "/system/reboot"); flash(t("The box is rebooting.")); } catch (e) { flash(e.message, "error"); }
    });
    const reset = $("#factory-form");
    reset.addEventListener("submit", async (ev) => {
      ev.preventDefault(); clearErrors(reset);
      const typed = $("#factory-confirm").value.trim();
      if (typed !== "FACTORY RESET") { fieldError(reset, "confirm", t("Type FACTORY RESET to confirm.")); return; }
      try { await api("POST", "/system/factory-reset", { confirm: typed }); location.href = "/login"; }
      catch (err) { fieldError(reset, "confirm", err.message); }
    });
    const form = $("#site-import");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault(); clearErrors(form);
      const file = $("#site-file").files[0];
      if (!file) { fieldError(form, "file", t("Choose a file.")); return; }
      if (!confirm(t("Replace the whole site with this file?"))) return;
      try { const r = await api("PUT", "/site/import", await file.text()); flash(t("Site imported: {z} zones, {s} stations.", { z: r.zones, s: r.stations })); }
      catch (err) { fieldError(form, "file", (err.problem.errors || [err.message]).join("\n")); }
    });
  }

  async function password() {
    const form = $("#password-form");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault(); clearErrors(form);
      try { await api("PUT", "/auth/password", EC.formData(form)); flash(t("Password changed; log in again.")); setTimeout(() => { location.href = "/login"; }, 1500); }
      catch (err) { fieldError(form, err.status === 401 || err.status === 423 ? "old_password" : "new_password", err.message); }
    });
  }

  const RUN = { "admin/meters": meters, "admin/users": users, "admin/installation": installation, "admin/logs": logs,
    "admin/maintenance": maintenance, "admin/system": system, password };
  RUN[page]().catch((e) => flash(e.message, "error"));
  void showError;
})();
