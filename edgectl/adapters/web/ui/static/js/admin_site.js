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

  function settingsForm(fields, toBody) {
    const form = h("form", { class: "grid-form", novalidate: true }, fields, h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "save" }, t("Save"))),
      h("p", { class: "error", dataset: { errorFor: "_form" } }));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault(); clearErrors(form);
      try { await api("PUT", "/settings", toBody(formData(form))); flash(t("Saved.")); } catch (err) { showError(form, err); }
    });
    box.replaceChildren(form);
  }

  async function network() {
    const s = (await api("GET", "/settings")).site;
    settingsForm([field(t("Site name"), h("input", { id: "name", name: "name", value: s.name || "" }), "name"),
      field(t("Time zone"), h("input", { id: "timezone", name: "timezone", value: s.timezone || "" }), "timezone"),
      ...[[t("IP address"), location.hostname], [t("Subnet mask"), "–"], [t("Gateway"), "–"], [t("DNS"), "–"], [t("Proxy"), "–"], [t("DHCP server range"), "–"]]
        .map(([l, v], i) => field(l, h("input", { id: "ro" + i, value: v, disabled: true }), "ro" + i))], (v) => ({ name: v.name, timezone: v.timezone }));
  }

  async function supervision() {
    const s = (await api("GET", "/settings")).site, r = s.remote_energy || {};
    const rem = await api("GET", "/rem");
    settingsForm([
      h("p", { class: "notice" }, t("The link to a charge-point operator (OCPP supervision) is not configurable from this version's API. Remote energy management is.")),
      field(t("Remote energy management"), h("input", { id: "enabled", name: "enabled", type: "checkbox", checked: r.enabled }), "enabled"),
      field(t("Webservices login allowed to set setpoints"), h("input", { id: "login", name: "login", value: r.login || "" }), "login"),
      field(t("Minimum update period (s)"), h("input", { id: "period", name: "min_update_period_s", type: "number", value: r.min_update_period_s ?? 60 }), "min_update_period_s"),
      field(t("Heartbeat period (s)"), h("input", { id: "hb", name: "heartbeat_s", type: "number", value: r.heartbeat_s ?? 600 }), "heartbeat_s"),
      field(t("Time synchronisation"), h("input", { id: "time_sync", name: "time_sync", type: "checkbox", checked: r.time_sync }), "time_sync"),
      h("pre", { class: "result" }, JSON.stringify(rem, null, 2))], (v) => { if (!v.login) delete v.login; return { remote_energy: v }; });
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
    settingsForm([
      field(t("Consumption optimisation"), h("input", { id: "consumption_optimisation", name: "consumption_optimisation", type: "checkbox", checked: s.consumption_optimisation }), "consumption_optimisation"),
      field(t("Accept unknown stations automatically"), h("input", { id: "auto_register", name: "auto_register", type: "checkbox", checked: s.auto_register }), "auto_register"),
      h("p", { class: "notice" }, t("Read-only in this version (set in the daemon configuration):")),
      ...[[t("Session timeout (s)"), sec.inactivity_s], [t("Failed logins before lock-out"), sec.max_failures], [t("Lock-out (s)"), sec.lockout_s],
        [t("TLS 1.0"), sec.tls10 ? t("on") : t("off")], [t("HTTP port"), sec.http_port], [t("HTTPS port"), sec.https_port ?? "–"]]
        .map(([l, v], i) => field(l, h("input", { id: "sec" + i, value: v, disabled: true }), "sec" + i))],
    (v) => ({ consumption_optimisation: v.consumption_optimisation, auto_register: v.auto_register }));
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
