/* Sessions (with the transactions CSV) and the station events browser. */
"use strict";
(() => {
  const { t, api, h, $, kwh, when, duration, badge, flash } = EC;
  const iso = (d, end) => d ? new Date(d + (end ? "T23:59:59" : "T00:00:00")).toISOString() : "";

  async function sessions() {
    const f = $("#period");
    const q = new URLSearchParams({ limit: "500" });
    const from = iso(f.from.value), to = iso(f.to.value, true);
    if (from) q.set("from", from);
    if (to) q.set("to", to);
    if (f.station.value.trim()) q.set("station", f.station.value.trim());
    if (f.open.checked) q.set("open", "true");
    const exp = new URLSearchParams();
    if (from) exp.set("from", from);
    if (to) exp.set("to", to);
    $("#csv").href = "/api/v1/sessions/export" + (exp.toString() ? "?" + exp : "");
    const list = await api("GET", "/sessions?" + q);
    const rows = list.map((s) => h("tr", {}, h("td", {}, s.transaction_id),
      h("td", {}, h("a", { href: "/ui/station/" + encodeURIComponent(s.station_id) }, s.station_id), " #" + s.connector_id),
      h("td", {}, s.id_tag || "–"), h("td", {}, when(s.start)), h("td", {}, s.open ? h("span", { class: "badge st-charging" }, t("Ongoing")) : when(s.end)),
      h("td", { class: "num" }, duration(((s.end ? Date.parse(s.end) : Date.now()) - Date.parse(s.start)) / 1000)),
      h("td", { class: "num" }, kwh(s.energy_wh)), h("td", {}, s.stop_reason || "")));
    $("#sessions").replaceChildren(rows.length ? EC.table([t("Transaction"), t("Outlet"), t("Card"), t("Start"), t("End"), t("Duration"), t("Energy"), t("Stop reason")], rows, { id: "sessions-table" })
      : h("p", { class: "muted" }, t("No session in this period.")));
  }

  async function stationEvents() {
    const f = $("#se-filter");
    const q = new URLSearchParams({ limit: "200" });
    for (const k of ["station", "connector", "status"]) if (f[k].value.trim()) q.set(k, f[k].value.trim());
    if (f.errors_only.checked) q.set("errors_only", "true");
    const list = await api("GET", "/station-events?" + q);
    const rows = list.map((e) => h("tr", {}, h("td", {}, when(e.received_at)),
      h("td", {}, h("a", { href: "/ui/station/" + encodeURIComponent(e.station_id) }, e.station_id)), h("td", {}, "#" + e.connector_id),
      h("td", {}, badge(e.status)), h("td", {}, e.error_code === "NoError" ? "" : e.error_code || ""), h("td", {}, e.info || "")));
    $("#all-events").replaceChildren(rows.length ? EC.table([t("Time"), t("Station"), t("Connector"), t("Status"), t("Error"), t("Information")], rows)
      : h("p", { class: "muted" }, t("No event.")));
  }

  const page = document.body.dataset.page;
  if (page === "sessions") {
    $("#period").addEventListener("submit", (ev) => { ev.preventDefault(); sessions().catch((e) => flash(e.message, "error")); });
    sessions().catch((e) => flash(e.message, "error"));
  } else {
    $("#se-filter").addEventListener("submit", (ev) => { ev.preventDefault(); stationEvents().catch((e) => flash(e.message, "error")); });
    stationEvents().catch((e) => flash(e.message, "error"));
  }
})();
