/* RFID cards: filters, add/edit/delete, bulk changes, import (replaces) and export. */
"use strict";
(() => {
  const { t, api, h, $, $$, flash, showError, clearErrors, fieldError, when } = EC;
  const form = $("#card-form");
  let editing = null;

  const selected = () => $$("input.pick:checked").map((c) => c.value);
  function count() { $("#selected-count").textContent = t("{n} selected", { n: selected().length }); }

  async function load() {
    const f = $("#card-filter"), q = new URLSearchParams({ limit: "1000" });
    for (const k of ["id_tag", "comment", "zone", "vip", "authorized"]) if (f[k].value.trim()) q.set(k, f[k].value.trim());
    const list = await api("GET", "/cards?" + q);
    const all = h("input", { type: "checkbox", "aria-label": t("Select all"), onchange: (ev) => { $$("input.pick").forEach((c) => { c.checked = ev.target.checked; }); count(); } });
    const rows = list.map((c) => h("tr", { dataset: { card: c.id_tag } },
      h("td", {}, h("input", { type: "checkbox", class: "pick", value: c.id_tag, onchange: count, "aria-label": c.id_tag })),
      h("td", {}, c.id_tag), h("td", {}, c.comment || ""), h("td", {}, c.zones && c.zones.length ? c.zones.join(", ") : t("every zone")),
      h("td", {}, c.vip ? h("span", { class: "chip warn" }, t("VIP")) : ""),
      h("td", {}, c.authorized === false ? h("span", { class: "badge st-faulted" }, t("Blocked")) : h("span", { class: "badge st-available" }, t("Authorised"))),
      h("td", {}, c.last_seen ? when(c.last_seen) : "–"),
      h("td", {}, h("div", { class: "btns" }, h("button", { type: "button", onclick: () => edit(c) }, t("Edit")),
        h("button", { type: "button", class: "danger", onclick: () => remove(c.id_tag) }, t("Delete"))))));
    $("#cards").replaceChildren(EC.table([all, t("Id tag"), t("Comment"), t("Zones"), t("VIP"), t("State"), t("Last seen"), t("Actions")], rows, { id: "cards-table" }),
      h("p", { class: "muted", id: "cards-count" }, t("{n} cards.", { n: list.length })));
    count();
  }

  function edit(c) {
    editing = c.id_tag;
    $("#card-form-title").textContent = t("Edit card {id}", { id: c.id_tag });
    form.id_tag.value = c.id_tag; form.id_tag.disabled = true;
    form.comment.value = c.comment || ""; form.zones.value = (c.zones || []).join(", ");
    form.vip.checked = !!c.vip; form.authorized.checked = c.authorized !== false;
    form.scrollIntoView({ behavior: "smooth" });
  }
  async function remove(tag) {
    if (!confirm(t("Delete card {id}?", { id: tag }))) return;
    try { await api("DELETE", "/cards/" + encodeURIComponent(tag)); flash(t("Deleted.")); load(); } catch (e) { flash(e.message, "error"); }
  }
  form.addEventListener("reset", () => { editing = null; form.id_tag.disabled = false; clearErrors(form); $("#card-form-title").textContent = t("Add a card"); });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault(); clearErrors(form);
    const tag = form.id_tag.value.trim();
    if (!tag) { fieldError(form, "id_tag", t("Required.")); return; }
    const zones = form.zones.value.split(",").map((z) => z.trim()).filter(Boolean);
    const body = { id_tag: tag, comment: form.comment.value, vip: form.vip.checked, authorized: form.authorized.checked, zones: zones.length ? zones : null };
    try {
      if (editing) await api("PUT", "/cards/" + encodeURIComponent(editing), body);
      else await api("POST", "/cards", body);
      flash(t("Saved.")); form.reset(); load();
    } catch (err) { showError(form, err); }
  });

  async function bulk(payload) {
    const tags = selected();
    if (!tags.length) { flash(t("Select cards first."), "error"); return; }
    try { await api("POST", "/cards/bulk", { id_tags: tags, ...payload }); flash(t("{n} cards changed.", { n: tags.length })); load(); }
    catch (e) { flash(e.message, "error"); }
  }
  $("#bulk-authorize").addEventListener("click", () => bulk({ patch: { authorized: true } }));
  $("#bulk-block").addEventListener("click", () => bulk({ patch: { authorized: false } }));
  $("#bulk-vip").addEventListener("click", () => bulk({ patch: { vip: true } }));
  $("#bulk-delete").addEventListener("click", () => { if (confirm(t("Delete the selected cards?"))) bulk({ delete: true }); });
  $("#card-filter").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });

  const imp = $("#import-form");
  imp.addEventListener("submit", async (ev) => {
    ev.preventDefault(); clearErrors(imp);
    const file = $("#import-file").files[0];
    if (!file) { fieldError(imp, "file", t("Choose a file.")); return; }
    // A station's export may be Windows-1252 (a spreadsheet's save): decoded here, the server gets UTF-8.
    const bytes = await file.arrayBuffer();
    let text;
    try { text = new TextDecoder("utf-8", { fatal: true }).decode(bytes); }
    catch (e) { text = new TextDecoder("windows-1252").decode(bytes); }
    const type = file.name.endsWith(".json") || text.trim().startsWith("[") ? "application/json" : "text/csv";
    try {
      const r = await api("PUT", "/cards/import", text, { type });
      flash(t("{n} cards imported.", { n: r.count })); load();
    } catch (err) { fieldError(imp, "file", (err.problem.errors || [err.message]).join("\n")); }
  });
  load().catch((e) => flash(e.message, "error"));
})();
