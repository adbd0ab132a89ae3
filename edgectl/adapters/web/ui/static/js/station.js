/* Zone and station views: live connector state, every remote command, station events. */
"use strict";
(() => {
  const { t, api, h, $, $$, badge, amps, kwh, reason, zoneBars, live, flash, showError, clearErrors } = EC;
  const root = $("#entity");
  const kind = root.dataset.kind, ident = root.dataset.ident;
  const TRIGGERS = ["BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StatusNotification"];
  /* Every remote command of the API, with its parameters. */
  const COMMANDS = {
    remote_start: [t("Start a charge"), [["id_tag", "text", t("Card id tag"), true], ["connector", "number", t("Connector")]]],
    remote_stop: [t("Stop the charge"), [["transaction_id", "number", t("Transaction number"), true]]],
    force_stop: [t("Close a session of an offline station"), [["transaction_id", "number", t("Transaction number"), true]]],
    unlock: [t("Unlock the connector"), [["connector", "number", t("Connector"), true]]],
    set_available: [t("Make available"), [["connector", "number", t("Connector (0: whole station)")]]],
    set_unavailable: [t("Make unavailable"), [["connector", "number", t("Connector (0: whole station)")]]],
    soft_reset: [t("Soft reset"), []],
    hard_reset: [t("Hard reset"), []],
    clear_cache: [t("Clear the authorisation cache"), []],
    get_configuration: [t("Read the configuration"), [["keys", "text", t("Keys (comma-separated, empty: all)")]]],
    change_configuration: [t("Change a configuration key"), [["key", "text", t("Key"), true], ["value", "text", t("Value"), true]]],
    trigger_message: [t("Ask for a message"), [["message", TRIGGERS, t("Message"), true], ["connector", "number", t("Connector")]]],
    reserve_now: [t("Reserve"), [["connector", "number", t("Connector"), true], ["id_tag", "text", t("Card id tag"), true], ["expiry", "datetime-local", t("Until"), true]]],
    cancel_reservation: [t("Cancel a reservation"), [["reservation_id", "number", t("Reservation number"), true]]],
    update_firmware: [t("Update the station firmware"), [["location", "text", t("Firmware address (URL)")], ["file", "text", t("File on the box")]]],
    get_diagnostics: [t("Fetch diagnostics"), []],
    maintenance_report: [t("Maintenance report"), [["format", ["json", "html"], t("Format")]]],
  };

  async function send(stationId, command, params, form) {
    try {
      const r = await api("POST", "/stations/" + encodeURIComponent(stationId) + "/commands", { command, params });
      const ok = r.status === "Accepted" || r.status === "Unlocked";
      flash(t("{cmd}: the station answered {status}", { cmd: COMMANDS[command][0], status: r.status }) + (r.error ? " — " + r.error : ""), ok ? "ok" : "error");
      const out = $("#cmd-result");
      if (out && (r.payload && Object.keys(r.payload).length)) { out.hidden = false; out.textContent = JSON.stringify(r.payload, null, 2); }
      return r;
    } catch (err) { if (form) showError(form, err); else flash(err.message, "error"); return null; }
  }

  function connectorActions(stationId, c) {
    const buttons = [];
    if (c.transaction_id) buttons.push(h("button", { type: "button", class: "danger", dataset: { action: "remote_stop" }, onclick: () => send(stationId, "remote_stop", { transaction_id: c.transaction_id }) }, t("Stop the charge")));
    buttons.push(h("button", { type: "button", dataset: { action: "unlock" }, onclick: () => send(stationId, "unlock", { connector: c.id }) }, t("Unlock")));
    buttons.push(c.status === "Unavailable"
      ? h("button", { type: "button", onclick: () => send(stationId, "set_available", { connector: c.id }) }, t("Make available"))
      : h("button", { type: "button", onclick: () => send(stationId, "set_unavailable", { connector: c.id }) }, t("Make unavailable")));
    return h("div", { class: "btns" }, buttons);
  }

  function connectorTable(st) {
    const rows = st.connectors.map((c) => h("tr", { dataset: { connector: st.station.id + "-" + c.id } },
      h("td", {}, "#" + c.id), h("td", {}, badge(c.status, st.online)), h("td", {}, c.id_tag || "–"),
      h("td", { class: "num" }, c.setpoint === null || c.setpoint === undefined ? "–" : amps(c.setpoint)),
      h("td", { class: "num" }, c.current ? c.current.map((x) => EC.num(x, 1)).join(" / ") + " A" : "–"),
      h("td", { class: "num" }, c.energy_wh === null || c.energy_wh === undefined ? "–" : kwh(c.energy_wh)),
      h("td", {}, (c.limited_by || []).map(reason).join(", ")), h("td", {}, connectorActions(st.station.id, c))));
    return EC.table([t("Connector"), t("Status"), t("Card"), t("Setpoint"), t("Measured"), t("Energy"), t("Why"), t("Actions")], rows);
  }

  async function stationView() {
    const st = await api("GET", "/stations/" + encodeURIComponent(ident));
    $("#station-title").textContent = st.station.name + " (" + st.station.id + ")";
    $("#station-facts").replaceChildren(
      h("dt", {}, t("Model")), h("dd", {}, st.station.model), h("dt", {}, t("Zone")),
      h("dd", {}, h("a", { href: "/ui/zone/" + encodeURIComponent(st.station.zone) }, st.station.zone)),
      h("dt", {}, t("Connection")), h("dd", {}, st.online ? h("span", { class: "badge st-available" }, t("Online")) : badge(null, false)));
    $("#connectors").replaceChildren(connectorTable(st));
    return st;
  }

  function commandForm() {
    const form = $("#command-form"), sel = $("#cmd"), params = $("#cmd-params");
    sel.replaceChildren(...Object.entries(COMMANDS).map(([k, [label]]) => h("option", { value: k }, label)));
    const draw = () => {
      params.replaceChildren(...COMMANDS[sel.value][1].map(([name, type, label, required]) => h("div", { class: "field" },
        h("label", { for: "p-" + name }, label + (required ? " *" : "")),
        Array.isArray(type) ? h("select", { id: "p-" + name, name }, type.map((v) => h("option", { value: v }, v)))
          : h("input", { id: "p-" + name, name, type, required: !!required }),
        h("p", { class: "error", dataset: { errorFor: name } }))));
    };
    sel.addEventListener("change", draw); draw();
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault(); clearErrors(form);
      const p = {};
      let missing = false;
      for (const [name, type, , required] of COMMANDS[sel.value][1]) {
        const v = $("#p-" + name).value.trim();
        if (!v) { if (required) { EC.fieldError(form, name, t("Required.")); missing = true; } continue; }
        if (type === "number") p[name] = Number(v);
        else if (name === "keys") p[name] = v.split(",").map((x) => x.trim()).filter(Boolean);
        else if (type === "datetime-local") p[name] = new Date(v).toISOString();
        else p[name] = v;
      }
      if (!missing) await send(ident, sel.value, p, form);
    });
  }

  let before = null;
  async function events(more) {
    const f = $("#events-filter");
    const q = new URLSearchParams({ limit: "50" });
    const c = f.connector.value, s = f.status.value.trim();
    if (c !== "") q.set("connector", c);
    if (s) q.set("status", s);
    if (f.errors_only.checked) q.set("errors_only", "true");
    if (more && before) q.set("before_id", before);
    const list = await api("GET", "/stations/" + encodeURIComponent(ident) + "/events?" + q);
    if (list.length) before = Math.min(...list.map((e) => e.id));
    const rows = list.map((e) => h("tr", {}, h("td", {}, EC.when(e.received_at)), h("td", {}, "#" + e.connector_id),
      h("td", {}, badge(e.status)), h("td", {}, e.error_code === "NoError" ? "" : e.error_code || ""), h("td", {}, e.info || "")));
    const box = $("#station-events");
    if (more && box.querySelector("tbody")) box.querySelector("tbody").append(...rows);
    else box.replaceChildren(EC.table([t("Time"), t("Connector"), t("Status"), t("Error"), t("Information")], rows));
    $("#events-more").hidden = list.length < 50;
  }

  async function zoneView() {
    const [zone, list] = await Promise.all([api("GET", "/zones/" + encodeURIComponent(ident)), api("GET", "/stations")]);
    const zones = await api("GET", "/zones");
    const inZone = new Set([zone.id]);
    for (let grew = true; grew;) { grew = false; for (const z of zones) if (z.parent && inZone.has(z.parent) && !inZone.has(z.id)) { inZone.add(z.id); grew = true; } }
    $("#zone-title").textContent = zone.name + " (" + zone.id + ")";
    $("#zone-facts").replaceChildren(h("dt", {}, t("Maximum current")), h("dd", {}, amps(zone.max_current)),
      h("dt", {}, t("Mode")), h("dd", {}, zone.mode === "dynamic" ? t("dynamic (metered)") : t("static")),
      h("dt", {}, t("Meter")), h("dd", {}, zone.meter || "–"));
    const mine = list.filter((s) => inZone.has(s.station.zone));
    $("#zone-stations").replaceChildren(...(mine.length ? mine.map((st) => h("div", { class: "sub" },
      h("h3", {}, h("a", { href: "/ui/station/" + encodeURIComponent(st.station.id) }, st.station.name), " ",
        st.online ? "" : badge(null, false),
        h("span", { class: "btns inline" },
          h("button", { type: "button", onclick: () => send(st.station.id, "soft_reset", {}) }, t("Soft reset")),
          h("button", { type: "button", onclick: () => send(st.station.id, "hard_reset", {}) }, t("Hard reset")),
          h("a", { class: "button", href: "/ui/station/" + encodeURIComponent(st.station.id) + "#command-form" }, t("All commands")))),
      connectorTable(st))) : [h("p", { class: "muted" }, t("No station in this zone."))]));
    return inZone;
  }

  async function start() {
    if (kind === "station") {
      await stationView(); commandForm(); await events(false);
      $("#events-filter").addEventListener("submit", (ev) => { ev.preventDefault(); before = null; events(false); });
      $("#events-more").addEventListener("click", () => events(true));
      let key = "";
      live((doc) => {
        const k = JSON.stringify(doc.connectors.filter((c) => c.station === ident)) + doc.stations_online.includes(ident);
        if (k !== key) { key = k; stationView(); }
      });
    } else {
      const inZone = await zoneView();
      let key = "";
      live((doc) => {
        $("#zone-bars").replaceChildren(...zoneBars(doc.zones.filter((z) => z.id === ident)));
        const k = JSON.stringify(doc.connectors.map((c) => [c.station, c.status, c.setpoint]));
        if (k !== key) { key = k; zoneView(); }
      });
      void inZone;
    }
  }
  start().catch((e) => flash(e.message, "error"));
  void $$;
})();
