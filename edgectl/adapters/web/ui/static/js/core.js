/* edgectl UI core: translations, REST calls, DOM helpers, live feed. No build step. */
"use strict";
const EC = (() => {
  const catalogEl = document.getElementById("i18n");
  const CATALOG = catalogEl ? JSON.parse(catalogEl.textContent || "{}") : {};

  /* t(msgid, {n: 3}) -> the translation of msgid, with {n} replaced. */
  function t(msgid, vars) {
    let s = CATALOG[msgid] || msgid;
    if (vars) for (const [k, v] of Object.entries(vars)) s = s.split("{" + k + "}").join(String(v));
    return s;
  }

  function cookie(name) {
    const m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && problem.detail) || ("HTTP " + status));
      this.status = status;
      this.problem = problem || {};
    }
  }

  async function api(method, path, body, opts) {
    opts = opts || {};
    const headers = { "Accept": "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = cookie("edgectl_csrf");
    let payload;
    if (body !== undefined && body !== null) {
      if (typeof body === "string") { payload = body; headers["Content-Type"] = opts.type || "text/plain"; }
      else { payload = JSON.stringify(body); headers["Content-Type"] = "application/json"; }
    }
    const resp = await fetch("/api/v1" + path, { method, headers, body: payload, credentials: "same-origin" });
    if (resp.status === 401 && !opts.noRedirect) {
      location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
      throw new ApiError(401, { detail: t("Your session has ended; log in again.") });
    }
    if (!resp.ok) {
      let problem = null;
      try { problem = await resp.json(); } catch (e) { problem = null; }
      throw new ApiError(resp.status, problem);
    }
    if (resp.status === 204) return null;
    const type = resp.headers.get("Content-Type") || "";
    return type.includes("json") ? resp.json() : resp.text();
  }

  /* h("div", {class: "x", onclick: fn}, child, "text", [more]) */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k === "value") el.value = v;
      else if (k === "checked") el.checked = !!v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat(3)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  function flash(msg, kind) {
    const el = $("#flash");
    if (!el) { alert(msg); return; }
    el.textContent = msg;
    el.className = "flash " + (kind || "ok");
    el.hidden = false;
    clearTimeout(flash.timer);
    if (kind !== "error") flash.timer = setTimeout(() => { el.hidden = true; }, 6000);
  }

  /* Put an API error next to the field it names; otherwise in the flash line. */
  function showError(form, err) {
    clearErrors(form);
    const texts = (err.problem && err.problem.errors) || [err.message];
    let placed = false;
    for (const text of texts) {
      const names = [];
      const quoted = text.match(/field "([\w.]+)"/);
      if (quoted) names.push(quoted[1]);
      const path = text.match(/^([\w/.\[\]]+):/);
      if (path) names.push(...path[1].split(/[/.\[\]]+/).filter(Boolean).reverse());
      const head = text.match(/^(\w+):/);
      if (head) names.push(head[1]);
      const target = form && names.map((n) => $('[data-error-for="' + n + '"]', form)).find(Boolean);
      if (target) { target.textContent = text; target.closest(".field")?.classList.add("invalid"); placed = true; }
    }
    if (!placed) {
      const general = form && $('[data-error-for="_form"]', form);
      if (general) general.textContent = texts.join("\n");
      else flash(texts.join("\n"), "error");
    }
  }
  function clearErrors(form) {
    if (!form) return;
    $$("[data-error-for]", form).forEach((e) => { e.textContent = ""; });
    $$(".field.invalid", form).forEach((e) => e.classList.remove("invalid"));
  }
  function fieldError(form, name, text) {
    const el = $('[data-error-for="' + name + '"]', form);
    if (el) { el.textContent = text; el.closest(".field")?.classList.add("invalid"); }
  }

  /* Units, one way everywhere. */
  const num = (x, d) => (x === null || x === undefined || Number.isNaN(x)) ? "–" :
    Number(x).toLocaleString(document.documentElement.lang, { maximumFractionDigits: d === undefined ? 1 : d });
  const amps = (x) => num(x, 1) + " A";
  const kwh = (wh) => num((wh || 0) / 1000, 2) + " kWh";
  function duration(s) {
    s = Math.max(0, Math.round(s || 0));
    const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60);
    return hh + " h " + String(mm).padStart(2, "0") + " min";
  }
  const when = (iso) => iso ? new Date(iso).toLocaleString(document.documentElement.lang) : "–";

  /* OCPP connector status -> [css class, label]. One palette everywhere. */
  function status(s, online) {
    if (online === false) return ["st-offline", t("Disconnected")];
    const map = {
      Available: ["st-available", t("Available")], Preparing: ["st-preparing", t("Preparing")],
      Charging: ["st-charging", t("Charging")], SuspendedEV: ["st-suspended-ev", t("Suspended by EV")],
      SuspendedEVSE: ["st-suspended-evse", t("Suspended by the controller")], Finishing: ["st-finishing", t("Finishing")],
      Reserved: ["st-reserved", t("Reserved")], Unavailable: ["st-unavailable", t("Unavailable")],
      Faulted: ["st-faulted", t("Faulted")],
    };
    return map[s] || ["st-unknown", t("Unknown")];
  }
  function badge(s, online) {
    const [cls, label] = status(s, online);
    return h("span", { class: "badge " + cls, dataset: { status: online === false ? "Disconnected" : (s || "") } }, label);
  }
  /* Why a zone or connector is limited, in words. */
  function reason(r) {
    if (r.startsWith("di:")) return t("digital input {n}", { n: r.slice(3) });
    if (r.startsWith("tou:")) return t("time of use ({p})", { p: r.slice(4) });
    if (r.startsWith("zone:")) { const p = r.split(":"); return t("zone {z} full on {ph}", { z: p[1], ph: p[2] || "" }); }
    if (r.startsWith("parent:")) return t("parent zone {z}", { z: r.slice(7) });
    if (r.startsWith("status:")) return t("status {s}", { s: status(r.slice(7))[1] });
    const words = {
      max_current: t("zone maximum"), meter: t("metered load"), degraded: t("degraded mode"), remote: t("remote setpoint"),
      connector_max: t("connector maximum"), car_max: t("car maximum"), min_current: t("below minimum"),
      vip: t("VIP"), ev_draw: t("measured draw"), not_respecting: t("not respecting its setpoint"), offline: t("offline"),
    };
    return words[r] || r;
  }


  /* Per-zone, per-phase bars: setpoint sum and measured current against the effective limit. */
  function zoneBars(zones) {
    return zones.map((z) => {
      const reasons = (z.limited_by || []).filter((r) => r !== "max_current");
      const flags = [];
      if (z.degraded) flags.push(t("degraded mode"));
      if (z.remote_setpoint !== null && z.remote_setpoint !== undefined) flags.push(t("remote setpoint {a}", { a: amps(z.remote_setpoint) }));
      const why = [...new Set([...reasons.map(reason), ...flags])];
      const phases = [0, 1, 2].map((i) => {
        const limit = (z.limit || [])[i] || 0, used = (z.used || [])[i] || 0;
        const meas = z.measured ? z.measured[i] : null;
        const scale = Math.max(limit, used, meas || 0, 1);
        const set = h("span", { class: "bar-set" }), m = h("span", { class: "bar-meas" }), lim = h("span", { class: "bar-limit" });
        set.style.width = (100 * used / scale) + "%";
        lim.style.left = Math.min(99.5, 100 * limit / scale) + "%";
        if (meas !== null) m.style.width = (100 * meas / scale) + "%"; else m.hidden = true;
        const over = used > limit + 0.5;
        return h("div", { class: "phase" + (over ? " over" : "") },
          h("span", { class: "ph" }, "L" + (i + 1)),
          h("span", { class: "bar" }, set, m, lim),
          h("span", { class: "val" }, num(used, 0) + " / " + amps(limit) + (meas !== null ? " · " + t("measured") + " " + amps(meas) : "")));
      });
      return h("div", { class: "zone-bars", dataset: { zone: z.id } },
        h("div", { class: "zone-head" }, h("a", { href: "/ui/zone/" + encodeURIComponent(z.id) }, z.name || z.id),
          why.length ? h("span", { class: "why" }, t("Limited by:") + " ", why.map((w) => h("span", { class: "chip warn" }, w))) : null),
        phases);
    });
  }

  /* Alarms (kind in words; a table with a Clear button for operators). */
  function alarmKind(k) {
    const words = {
      station_offline: t("Station offline"), meter_unreachable: t("Meter unreachable"), connector_faulted: t("Connector faulted"),
      setpoint_not_respected: t("Not respecting its setpoint"), profile_rejected: t("Charging profile rejected"),
    };
    return words[k] || k;
  }
  function alarmsTable(list, onCleared, attrs) {
    const canClear = ["admin", "user"].includes(document.body.dataset.role);
    const rows = list.map((a) => h("tr", { dataset: { alarm: a.id, source: a.source } },
      h("td", {}, when(a.raised_at)), h("td", {}, h("span", { class: "chip " + (a.active ? "warn" : "") }, alarmKind(a.kind))),
      h("td", {}, a.source + (a.connector ? " #" + a.connector : "")), h("td", {}, a.code || ""), h("td", {}, a.message),
      h("td", {}, a.active ? (canClear ? h("button", { type: "button", class: "small", dataset: { clear: a.id }, onclick: async (ev) => {
        ev.target.disabled = true;
        try { await api("POST", "/alarms/" + a.id + "/clear"); flash(t("Alarm cleared.")); onCleared(); } catch (e) { flash(e.message, "error"); ev.target.disabled = false; }
      } }, t("Clear")) : t("active")) : t("cleared by {u} at {t}", { u: a.cleared_by || "–", t: when(a.cleared_at) }))));
    return table([t("Raised"), t("Alarm"), t("Device"), t("Code"), t("Message"), ""], rows, attrs || {});
  }

  /* The live feed: fn(status) after every control cycle; reconnects by itself. */
  function live(fn) {
    const es = new EventSource("/api/v1/live");
    es.addEventListener("status", (ev) => { try { fn(JSON.parse(ev.data)); } catch (e) { console.error(e); } });
    const dot = $("#live-dot");
    es.onopen = () => { if (dot) { dot.className = "live on"; dot.title = t("Live"); } };
    es.onerror = () => { if (dot) { dot.className = "live off"; dot.title = t("Reconnecting…"); } };
    return es;
  }

  function download(path, filename) {
    const a = h("a", { href: "/api/v1" + path, download: filename || "" });
    document.body.append(a); a.click(); a.remove();
  }

  function table(headers, rows, attrs) {
    return h("div", { class: "table-wrap" }, h("table", attrs || {},
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
      h("tbody", {}, rows)));
  }

  function formData(form) {
    const out = {};
    for (const el of $$("input,select,textarea", form)) {
      if (!el.name) continue;
      if (el.type === "checkbox") out[el.name] = el.checked;
      else if (el.type === "number") out[el.name] = el.value === "" ? null : Number(el.value);
      else out[el.name] = el.value;
    }
    return out;
  }

  function init() {
    const lang = $("#lang-select");
    if (lang) lang.addEventListener("change", () => lang.form.submit());
    const out = $("#logout");
    if (out) out.addEventListener("click", async () => {
      try { await api("POST", "/auth/logout", null, { noRedirect: true }); } catch (e) { /* gone already */ }
      location.href = "/login";
    });
    const toggle = $("#menu-toggle");
    if (toggle) toggle.addEventListener("click", () => document.body.classList.toggle("menu-open"));
  }
  document.addEventListener("DOMContentLoaded", init);

  return { t, api, ApiError, h, $, $$, flash, showError, clearErrors, fieldError, num, amps, kwh, duration, when,
           status, badge, reason, zoneBars, live, download, table, formData, cookie, alarmKind, alarmsTable };
})();
