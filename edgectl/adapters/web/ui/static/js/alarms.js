/* Alarm history: filters (kind, device, active/cleared), paging, clear. */
"use strict";
(() => {
  const { t, api, h, $, flash } = EC;
  const f = $("#alarm-filter");
  let rows = [];

  async function draw(more) {
    const q = new URLSearchParams({ limit: "100" });
    for (const k of ["kind", "source", "active"]) if (f[k].value.trim()) q.set(k, f[k].value.trim());
    if (more && rows.length) q.set("before_id", rows[rows.length - 1].id);
    const list = await api("GET", "/alarms/history?" + q);
    rows = more ? rows.concat(list) : list;
    $("#alarm-history").replaceChildren(rows.length ? EC.alarmsTable(rows, () => draw(false).catch(() => {}), { id: "alarm-table" })
      : h("p", { class: "muted" }, t("No alarm.")));
    $("#alarms-more").hidden = list.length < 100;
  }
  f.addEventListener("submit", (ev) => { ev.preventDefault(); draw(false).catch((e) => flash(e.message, "error")); });
  $("#alarms-more").addEventListener("click", () => draw(true).catch((e) => flash(e.message, "error")));
  draw(false).catch((e) => flash(e.message, "error"));
})();
