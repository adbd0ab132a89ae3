/* Editors shared by the wizard and the Admin pages: zone tree, station registration. */
"use strict";
const FORMS = (() => {
  const { t, api, h, $, $$, showError, clearErrors, fieldError, flash } = EC;

  function field(label, input, name, help) {
    return h("div", { class: "field" + (input.type === "checkbox" ? " check" : "") }, h("label", { for: input.id }, label), input,
      help ? h("p", { class: "help" }, help) : null, h("p", { class: "error", dataset: { errorFor: name } }));
  }
  function select(id, name, options, value) {
    return h("select", { id, name }, options.map(([v, label]) => h("option", { value: v, selected: v === value ? true : null }, label)));
  }

  /* The zone tree editor: one row per zone, the whole tree saved at once (PUT /zones). */
  async function zoneEditor(box, onSaved) {
    const [zones, site] = await Promise.all([api("GET", "/zones"), api("GET", "/site")]);
    const meters = site.meters.map((m) => m.id);
    const tbody = h("tbody", {});
    const row = (z) => {
      const parents = () => [["", t("(top level)")], ...$$("tr", tbody).map((r) => [$("[name=id]", r).value, $("[name=id]", r).value]).filter(([v]) => v && v !== z.id)];
      const tr = h("tr", { class: "zone-row" },
        h("td", {}, h("input", { name: "id", value: z.id || "", class: "narrow", "aria-label": t("Identifier") })),
        h("td", {}, h("input", { name: "name", value: z.name || "", "aria-label": t("Name") })),
        h("td", {}, select(null, "parent", parents(), z.parent || "")),
        h("td", {}, h("input", { name: "max_current", type: "number", min: "0", value: z.max_current ?? 32, class: "narrow", "aria-label": t("Maximum current (A)") })),
        h("td", {}, select(null, "mode", [["static", t("static")], ["dynamic", t("dynamic (metered)")]], z.mode || "static")),
        h("td", {}, select(null, "meter", [["", "–"], ...meters.map((m) => [m, m])], z.meter || "")),
        h("td", {}, h("input", { name: "degraded_current", type: "number", min: "0", value: z.degraded_current ?? "", class: "narrow", "aria-label": t("Degraded current (A)") })),
        h("td", {}, h("button", { type: "button", class: "danger", onclick: () => tr.remove() }, t("Remove"))));
      tr.dataset.auth = z.auth_mode || "";
      tr.dataset.tou = z.tou === undefined ? "" : String(z.tou);
      tr.addEventListener("focusin", (ev) => {
        const sel = ev.target.closest("select[name=parent]");
        if (sel) { const v = sel.value; sel.replaceChildren(...parents().map(([k, l]) => h("option", { value: k, selected: k === v ? true : null }, l))); }
      });
      return tr;
    };
    zones.forEach((z) => tbody.append(row(z)));
    const form = h("form", { id: "zones-form", novalidate: true },
      h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, [t("Identifier"), t("Name"), t("Parent"), t("Maximum (A)"), t("Mode"), t("Meter"), t("Degraded (A)"), ""].map((x) => h("th", {}, x)))), tbody)),
      h("p", { class: "error", dataset: { errorFor: "_form" } }),
      h("div", { class: "actions" }, h("button", { type: "button", id: "zone-add", onclick: () => tbody.append(row({})) }, t("Add a zone")),
        h("button", { type: "submit", class: "primary", id: "zones-save" }, t("Save the zones"))));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault(); clearErrors(form);
      const out = $$("tr", tbody).map((r) => {
        const z = { id: $("[name=id]", r).value.trim(), name: $("[name=name]", r).value.trim(), max_current: Number($("[name=max_current]", r).value), mode: $("[name=mode]", r).value };
        const parent = $("[name=parent]", r).value, meter = $("[name=meter]", r).value, deg = $("[name=degraded_current]", r).value;
        if (parent) z.parent = parent;
        if (meter) z.meter = meter;
        if (deg !== "") z.degraded_current = Number(deg);
        if (r.dataset.auth) z.auth_mode = r.dataset.auth;
        if (r.dataset.tou) z.tou = r.dataset.tou === "true";
        return z;
      });
      const bad = out.find((z) => !z.id || !z.name);
      if (bad) { fieldError(form, "_form", t("Every zone needs an identifier and a name.")); return; }
      try { await api("PUT", "/zones", out); flash(t("Saved.")); if (onSaved) await onSaved(); }
      catch (err) { showError(form, err); }
    });
    box.replaceChildren(form);
    return form;
  }

  const MODELS = ["generic_ac", "generic_dc", "evlink_city", "evlink_smart_wallbox", "evlink_parking", "evlink_pro_ac", "evlink_dc"];

  /* Register a station (detected or typed in). */
  function stationEntry(values) {
    const n = Number(values.connectors || 1), connectors = [];
    for (let i = 1; i <= n; i++) connectors.push({ id: i, wiring: values.wiring || "TRI123", max_current: Number(values.max_current || 32), socket: "T2" });
    return { id: values.id, name: values.name || values.id, model: values.model || "generic_ac", zone: values.zone, connectors };
  }
  function registerForm(id, zones, onDone, preset) {
    const uid = "r-" + Math.random().toString(36).slice(2, 7);
    const form = h("form", { class: "grid-form register", novalidate: true },
      field(t("Identity (charge-box id)"), h("input", { id: uid + "-id", name: "id", value: preset ? preset.identity : "" }), "id"),
      field(t("Name"), h("input", { id: uid + "-name", name: "name", value: preset ? preset.identity : "" }), "name"),
      field(t("Model"), select(uid + "-model", "model", MODELS.map((m) => [m, m]), "generic_ac"), "model"),
      field(t("Zone"), select(uid + "-zone", "zone", zones.map((z) => [z.id, z.name]), zones[0] && zones[0].id), "zone"),
      field(t("Connectors"), h("input", { id: uid + "-n", name: "connectors", type: "number", min: "1", max: "4", value: "1" }), "connectors"),
      field(t("Maximum per connector (A)"), h("input", { id: uid + "-a", name: "max_current", type: "number", min: "6", value: "32" }), "max_current"),
      field(t("Wiring"), select(uid + "-w", "wiring", ["TRI123", "TRI231", "TRI312", "MONO1", "MONO2", "MONO3"].map((w) => [w, w]), "TRI123"), "wiring"),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("Register"))),
      h("p", { class: "error", dataset: { errorFor: "_form" } }));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault(); clearErrors(form);
      const v = EC.formData(form);
      if (!v.id) { fieldError(form, "id", t("Required.")); return; }
      try { await api("POST", "/stations", stationEntry(v)); flash(t("Station {id} registered.", { id: v.id })); if (onDone) await onDone(); }
      catch (err) { showError(form, err); }
    });
    void id;
    return form;
  }

  return { field, select, zoneEditor, registerForm, stationEntry, MODELS };
})();
