/* Admin pages about the site: network, remote supervision, load shedding, zones,
   time of use (with the summary in amps), digital inputs, advanced settings. */
"use strict";
(() => {
  const { t, api, h, $, $$, flash, showError, clearErrors, formData, amps } = EC;
  const field = (label, input, name, help) => h("div", { class: "field" + (input.type === "checkbox" ? " check" : "") },
    h("label", { for: input.id }, label), input, help ? h("p", { class: "help" }, help) : null, h("p", { class: "error", dataset: { errorFor: name } }));
  const sel = (id, name, options, value) => h("select", { id, name }, options.map(([v, l]) => h("option", { value: v, selected: v === value ? true : null }, l)));
  const box = $("#admin-body");
  const section = document.body.dataset.page.split("/")[1];

  /* A form that PUTs formData (through toBody) to path; returns the form (not yet placed). */
  function putForm(id, path, fields, toBody, done) {
    const form = h("form", { class: "grid-form", id, novalidate: true }, fields, h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: id + "-save" }, t("Save"))),
      h("p", { class: "error", dataset: { errorFor: "_form" } }));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault(); clearErrors(form);
      try { const r = await api("PUT", path, toBody(formData(form))); flash(t("Saved.")); if (done) done(r); } catch (err) { showError(form, err); }
    });
    return form;
  }
  function settingsForm(fields, toBody) {
    const form = putForm("settings-form", "/settings", fields, toBody);
    $("button[type=submit]", form).id = "save";
    box.replaceChildren(form);
  }
  const text = (id, name, value, attrs) => h("input", { id, name, value: value ?? "", ...(attrs || {}) });
  const check = (id, name, checked) => h("input", { id, name, type: "checkbox", checked: !!checked });

  async function network() {
    const [s, n] = await Promise.all([api("GET", "/settings").then((x) => x.site), api("GET", "/system/network")]);
    const rendered = h("pre", { class: "result", id: "net-rendered" }, n.rendered);
    const where = h("p", { class: "muted", id: "net-file" }, n.file ? t("Written to {f}", { f: n.file }) : t("Not written yet."));
    const netForm = putForm("net-form", "/system/network", [
      field(t("Host name"), text("hostname", "hostname", n.hostname), "hostname"),
      field(t("Address from DHCP"), check("dhcp", "dhcp", n.dhcp), "dhcp"),
      field(t("IP address"), text("address", "address", n.address, { placeholder: "192.168.1.10" }), "address"),
      field(t("Subnet mask"), text("netmask", "netmask", n.netmask, { placeholder: "255.255.255.0" }), "netmask"),
      field(t("Gateway"), text("gateway", "gateway", n.gateway), "gateway"),
      field(t("DNS servers (comma-separated)"), text("dns", "dns", (n.dns || []).join(", ")), "dns"),
      field(t("Proxy"), text("proxy", "proxy", n.proxy, { placeholder: "http://proxy:3128" }), "proxy"),
      field(t("DHCP server for the stations"), check("dhcp_server", "dhcp_server", n.dhcp_server), "dhcp_server"),
      field(t("DHCP range start"), text("dhcp_range_start", "dhcp_range_start", n.dhcp_range_start), "dhcp_range_start"),
      field(t("DHCP range end"), text("dhcp_range_end", "dhcp_range_end", n.dhcp_range_end), "dhcp_range_end")],
    (v) => { v.dns = v.dns.split(",").map((x) => x.trim()).filter(Boolean); for (const k of ["address", "netmask", "gateway", "proxy", "dhcp_range_start", "dhcp_range_end"]) if (!v[k]) v[k] = null; return v; },
    (r) => { rendered.textContent = r.rendered; where.textContent = r.file ? t("Written to {f}", { f: r.file }) : t("Not written yet."); });
    const siteForm = putForm("site-form", "/settings", [field(t("Site name"), text("name", "name", s.name), "name"),
      field(t("Time zone"), text("timezone", "timezone", s.timezone), "timezone")], (v) => ({ name: v.name, timezone: v.timezone }));
    box.replaceChildren(h("h3", {}, t("Site")), siteForm, h("h3", {}, t("The box's network")),
      h("p", { class: "notice", id: "net-reboot" }, t("Network settings are written to the operating system's configuration and applied on the next reboot (Admin › System › Reboot); the running network does not change.")),
      netForm, h("h3", {}, t("Configuration the box applies")), where, rendered);
  }

  async function supervision() {
    const [s, cpo, rem] = await Promise.all([api("GET", "/settings").then((x) => x.site), api("GET", "/system/supervision"), api("GET", "/rem")]);
    const r = s.remote_energy || {};
    const pw = h("input", { id: "cpo-password", name: "password", type: "password", autocomplete: "new-password", placeholder: cpo.has_password ? t("(unchanged)") : "" });
    const cpoForm = putForm("cpo-form", "/system/supervision", [
      field(t("Link to the CPO enabled"), check("cpo-enabled", "enabled", cpo.enabled), "enabled"),
      field(t("CPO URL (ws:// or wss://)"), text("cpo-url", "url", cpo.url, { placeholder: "wss://cpo.example.com/ocpp" }), "url"),
      field(t("Charge-box identity"), text("cpo-identity", "identity", cpo.identity), "identity"),
      field(t("Security profile"), sel("cpo-profile", "security_profile", [["0", t("0: none")], ["1", t("1: password")], ["2", t("2: password over TLS")]], String(cpo.security_profile)), "security_profile"),
      field(t("Password (16-40 characters)"), pw, "password", cpo.has_password ? t("A password is stored; leave empty to keep it.") : null)],
    (v) => { v.security_profile = Number(v.security_profile); if (!v.password) delete v.password; return v; }, () => { pw.value = ""; });
    const remForm = putForm("rem-form", "/settings", [
      field(t("Remote energy management"), check("enabled", "enabled", r.enabled), "enabled"),
      field(t("Webservices login allowed to set setpoints"), text("login", "login", r.login), "login"),
      field(t("Minimum update period (s)"), h("input", { id: "period", name: "min_update_period_s", type: "number", value: r.min_update_period_s ?? 60 }), "min_update_period_s"),
      field(t("Heartbeat period (s)"), h("input", { id: "hb", name: "heartbeat_s", type: "number", value: r.heartbeat_s ?? 600 }), "heartbeat_s"),
      field(t("Time synchronisation"), check("time_sync", "time_sync", r.time_sync), "time_sync")],
    (v) => { if (!v.login) delete v.login; return { remote_energy: v }; });
    $("button[type=submit]", remForm).id = "save";
    box.replaceChildren(h("h3", {}, t("Link to a charge-point operator (CPO)")),
      h("p", { class: "notice", id: "cpo-not-built" }, t("The settings are stored and checked, but this version does not relay the stations to the CPO yet: nothing connects upstream.")),
      cpoForm, h("h3", {}, t("Remote energy management")), remForm, h("pre", { class: "result" }, JSON.stringify(rem, null, 2)));
  }

  async function shedding() {
    const s = (await api("GET", "/settings")).site;
    settingsForm([
      field(t("Minimum current"), sel("min_current", "min_current", [["iec61851", t("6 A (IEC 61851)")], ["evze", t("10 A (EV/ZE)")]], s.min_current || "iec61851"), "min_current"),
      field(t("Who is suspended first"), sel("shedding_priority", "shedding_priority", [["energy", t("the car that took the most energy")], ["duration", t("the car charging for the longest time")]], s.shedding_priority || "energy"), "shedding_priority"),
      field(t("Rotation (minutes)"), h("input", { id: "rotation_minutes", name: "rotation_minutes", type: "number", min: "0", value: s.rotation_minutes ?? 15 }), "rotation_minutes")], (v) => v);
  }

  async function advanced() {
    const all = await api("GET", "/settings"), s = all.site, sec = all.security;
    const siteForm = putForm("settings-form", "/settings", [
      field(t("Consumption optimisation"), check("consumption_optimisation", "consumption_optimisation", s.consumption_optimisation), "consumption_optimisation"),
      field(t("Accept unknown stations automatically"), check("auto_register", "auto_register", s.auto_register), "auto_register")],
    (v) => ({ consumption_optimisation: v.consumption_optimisation, auto_register: v.auto_register }));
    $("button[type=submit]", siteForm).id = "save";
    const secForm = putForm("security-form", "/settings/security", [
      field(t("Session timeout (s)"), h("input", { id: "inactivity_s", name: "inactivity_s", type: "number", min: "60", value: sec.inactivity_s }), "inactivity_s"),
      field(t("Failed logins before lock-out"), h("input", { id: "max_failures", name: "max_failures", type: "number", min: "1", value: sec.max_failures }), "max_failures"),
      field(t("Lock-out (s)"), h("input", { id: "lockout_s", name: "lockout_s", type: "number", min: "1", value: sec.lockout_s }), "lockout_s"),
      field(t("TLS 1.0"), check("tls10", "tls10", sec.tls10), "tls10",
        sec.tls10_applies === "live" ? t("The HTTPS server restarts with it at once; station connections (OCPP over TLS) take it at the next restart.") : t("Applies on restart.")),
      ...[[t("HTTP port"), sec.http_port], [t("HTTPS port"), sec.https_port ?? "–"]].map(([l, v], i) => field(l, h("input", { id: "port" + i, value: v, disabled: true }), "port" + i, t("Set in the daemon configuration.")))],
    (v) => ({ inactivity_s: v.inactivity_s, max_failures: v.max_failures, lockout_s: v.lockout_s, tls10: v.tls10 }),
    (r) => { if (r.notes && r.notes.length) flash(t("Saved.") + " " + r.notes.join(" ")); });
    box.replaceChildren(siteForm, h("h3", {}, t("Security")), secForm);
  }

  async function zones() { await FORMS.zoneEditor(box, null); }

  const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  function summary(tou, zonesList) {
    const periods = tou.periods.filter((p) => p.enabled !== false);
    const rows = zonesList.map((z) => h("tr", { dataset: { zone: z.id } }, h("td", {}, z.name),
      h("td", { class: "num" }, amps(z.max_current)),
      periods.map((p) => {
        const applies = !p.zones || !p.zones.length || p.zones.includes(z.id);
        return h("td", { class: "num", dataset: { period: p.name } }, applies && tou.enabled ? amps(Math.floor(z.max_current * (p.percent ?? 100) / 100)) : amps(z.max_current));
      })));
    $("#tou-summary").replaceChildren(EC.table([t("Zone"), t("Outside periods"), ...periods.map((p) => p.name + " (" + (p.percent ?? 100) + " %)")], rows, { class: "tou-summary", id: "tou-table" }));
  }
  async function tou() {
    const [data, zonesList] = await Promise.all([api("GET", "/tou"), api("GET", "/zones")]);
    const tbody = h("tbody", {});
    const row = (p) => h("tr", { class: "period" },
      h("td", {}, h("input", { name: "name", value: p.name || "", class: "narrow", "aria-label": t("Name") })),
      h("td", {}, h("input", { name: "percent", type: "number", min: "0", max: "100", value: p.percent ?? 100, class: "narrow", "aria-label": t("Percent of the maximum") })),
      h("td", {}, h("input", { name: "days", value: (p.days || DAYS).join(","), "aria-label": t("Days") })),
      h("td", {}, h("input", { name: "slots", value: (p.slots || []).map((s) => s.join("-")).join(", "), "aria-label": t("Time slots") })),
      h("td", {}, h("input", { name: "zones", value: (p.zones || []).join(","), "aria-label": t("Zones") })),
      h("td", {}, h("button", { type: "button", class: "danger", onclick: (ev) => ev.target.closest("tr").remove() }, t("Remove"))));
    data.periods.forEach((p) => tbody.append(row(p)));
    const form = h("form", { id: "tou-form", novalidate: true },
      field(t("Time-of-use capping enabled"), h("input", { id: "tou-enabled", name: "enabled", type: "checkbox", checked: data.enabled }), "enabled"),
      h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, [t("Name"), t("Percent of the maximum"), t("Days"), t("Time slots (08:00-12:00, …)"), t("Zones (empty: all)"), ""].map((x) => h("th", {}, x)))), tbody)),
      h("p", { class: "error", dataset: { errorFor: "_form" } }),
      h("div", { class: "actions" }, h("button", { type: "button", id: "period-add", onclick: () => tbody.append(row({ name: "", percent: 50, slots: [["08:00", "12:00"]] })) }, t("Add a period")),
        h("button", { type: "submit", class: "primary", id: "tou-save" }, t("Save"))));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault(); clearErrors(form);
      const list = (v) => v.split(",").map((x) => x.trim()).filter(Boolean);
      const periods = $$("tr.period", tbody).map((r) => ({
        name: $("[name=name]", r).value.trim(), percent: Number($("[name=percent]", r).value), days: list($("[name=days]", r).value),
        slots: list($("[name=slots]", r).value).map((s) => s.split("-").map((x) => x.trim())), zones: list($("[name=zones]", r).value) }));
      try { const saved = await api("PUT", "/tou", { enabled: $("#tou-enabled").checked, periods }); flash(t("Saved.")); summary(saved, zonesList); }
      catch (err) { showError(form, err); }
    });
    box.replaceChildren(form);
    summary(data, zonesList);
  }

  async function inputs() {
    const data = await api("GET", "/digital-inputs");
    const tbody = h("tbody", {});
    const row = (d) => h("tr", { class: "input" },
      h("td", {}, h("input", { name: "channel", type: "number", min: "1", value: d.channel ?? 1, class: "narrow", "aria-label": t("Channel") })),
      h("td", {}, h("input", { name: "name", value: d.name || "", "aria-label": t("Name") })),
      h("td", {}, h("input", { name: "enabled", type: "checkbox", checked: d.enabled !== false, "aria-label": t("Enabled") })),
      h("td", {}, h("input", { name: "percent", type: "number", min: "0", max: "100", value: d.percent ?? 0, class: "narrow", "aria-label": t("Percent of the maximum") })),
      h("td", {}, d.active === true ? h("span", { class: "badge st-suspended-evse" }, t("active")) : d.active === false ? h("span", { class: "badge st-available" }, t("inactive")) : "–"),
      h("td", {}, h("button", { type: "button", class: "danger", onclick: (ev) => ev.target.closest("tr").remove() }, t("Remove"))));
    data.inputs.forEach((d) => tbody.append(row(d)));
    const form = h("form", { novalidate: true }, h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, [t("Channel"), t("Name"), t("Enabled"), t("Percent of the maximum"), t("State"), ""].map((x) => h("th", {}, x)))), tbody)),
      h("p", { class: "error", dataset: { errorFor: "_form" } }),
      h("div", { class: "actions" }, h("button", { type: "button", onclick: () => tbody.append(row({})) }, t("Add an input")), h("button", { type: "submit", class: "primary" }, t("Save"))));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault(); clearErrors(form);
      const list = $$("tr.input", tbody).map((r) => ({ channel: Number($("[name=channel]", r).value), name: $("[name=name]", r).value, enabled: $("[name=enabled]", r).checked, percent: Number($("[name=percent]", r).value) }));
      try { await api("PUT", "/digital-inputs", { inputs: list }); flash(t("Saved.")); } catch (err) { showError(form, err); }
    });
    box.replaceChildren(form);
  }

  const RUN = { network, supervision, shedding, zones, tou, inputs, advanced };
  RUN[section]().catch((e) => flash(e.message, "error"));
})();
