/* Dashboard: zone tree with outlets, fleet and charge counts, active alarms, per-phase
   zone bars, ongoing sessions, last-24 h figures and energy chart; live through /api/v1/live. */
"use strict";
(() => {
  const { t, api, h, $, badge, amps, kwh, num, when, duration, zoneBars, reason, live } = EC;
  let site = null, stations = [], lastStatus = null, last24 = [];

  const FLEET = [
    ["Available", () => t("Available")], ["Charging", () => t("Charging")], ["SuspendedEV", () => t("Suspended by EV")],
    ["SuspendedEVSE", () => t("Suspended by the controller")], ["Faulted", () => t("Faulted")],
    ["Disconnected", () => t("Disconnected")], ["Unavailable", () => t("Unavailable")],
  ];

  function connectorStatus(st, c) {
    if (lastStatus) {
      const online = lastStatus.stations_online.includes(st.station.id);
      const live = lastStatus.connectors.find((x) => x.station === st.station.id && x.connector === c.id);
      return { online, status: live ? live.status : c.status, live };
    }
    return { online: st.online, status: c.status, live: null };
  }

  function renderTree() {
    const box = $("#zone-tree");
    const zones = site.zones;
    // Roots: zones whose parent is not shown (the top, or the top of an operator's domain).
    const shown = new Set(zones.map((z) => z.id));
    const children = (pid) => zones.filter((z) => pid === null ? !z.parent || !shown.has(z.parent) : z.parent === pid);
    const node = (z) => h("li", { dataset: { zone: z.id } },
      h("a", { class: "zone-link", href: "/ui/zone/" + encodeURIComponent(z.id) }, z.name, h("span", { class: "muted" }, " · " + amps(z.max_current))),
      h("ul", {}, children(z.id).map(node),
        stations.filter((s) => s.station.zone === z.id).map((s) => h("li", { class: "outlet-station" },
          h("a", { href: "/ui/station/" + encodeURIComponent(s.station.id) }, "▸ " + s.station.name),
          h("ul", { class: "outlets" }, s.station.connectors.map((c) => {
            const live = s.connectors.find((x) => x.id === c.id) || {};
            const now = connectorStatus(s, live.id ? live : { id: c.id, status: "Unknown" });
            return h("li", { dataset: { connector: s.station.id + "-" + c.id } },
              h("span", { class: "muted" }, "#" + c.id + " "), badge(now.status, now.online),
              now.live && now.live.setpoint ? h("span", { class: "muted" }, " " + amps(now.live.setpoint)) : null);
          }))))));
    box.replaceChildren(zones.length ? h("ul", { class: "tree-root" }, children(null).map(node)) :
      h("p", { class: "muted" }, t("No zones yet: run the commissioning wizard.")));
  }

  function renderCounts() {
    const counts = Object.fromEntries(FLEET.map(([k]) => [k, 0]));
    for (const s of stations) for (const c of s.connectors) {
      const now = connectorStatus(s, c);
      const key = !now.online ? "Disconnected" : (now.status in counts ? now.status : (now.status === "Preparing" || now.status === "Finishing" || now.status === "Reserved" ? "Available" : "Unavailable"));
      counts[key] += 1;
    }
    $("#fleet").replaceChildren(...FLEET.map(([k, label]) => h("div", { class: "count", dataset: { fleet: k } },
      badge(k === "Disconnected" ? null : k, k === "Disconnected" ? false : undefined), h("strong", {}, counts[k]), h("span", { class: "sr" }, label()))));
    const charges = { optimal: 0, reduced: 0, suspended: 0 };
    for (const c of (lastStatus ? lastStatus.connectors : [])) {
      if (c.state === "suspended") charges.suspended += 1;
      else if (c.state === "charging") {
        const reduced = (c.limited_by || []).some((r) => r.startsWith("zone:") || r === "min_current" || r === "not_respecting" || r === "offline");
        charges[reduced ? "reduced" : "optimal"] += 1;
      }
    }
    $("#charges").replaceChildren(
      h("div", { class: "count", dataset: { charges: "optimal" } }, h("span", { class: "badge st-charging" }, t("Optimal")), h("strong", {}, charges.optimal)),
      h("div", { class: "count", dataset: { charges: "reduced" } }, h("span", { class: "badge st-suspended-ev" }, t("Reduced")), h("strong", {}, charges.reduced)),
      h("div", { class: "count", dataset: { charges: "suspended" } }, h("span", { class: "badge st-suspended-evse" }, t("Suspended")), h("strong", {}, charges.suspended)));
  }

  function renderOngoing() {
    const rows = [];
    for (const s of stations) for (const c of s.connectors) {
      const now = connectorStatus(s, c);
      const busy = ["Charging", "SuspendedEV", "SuspendedEVSE", "Preparing", "Finishing"].includes(now.status) && now.online;
      if (!busy) continue;
      const cur = now.live && now.live.current ? Math.max(...now.live.current) : (c.current ? Math.max(...c.current) : null);
      rows.push(h("tr", { dataset: { session: s.station.id + "-" + c.id } },
        h("td", {}, h("a", { href: "/ui/station/" + encodeURIComponent(s.station.id) }, s.station.name), " #" + c.id),
        h("td", {}, c.id_tag || "–"), h("td", {}, badge(now.status, now.online)),
        h("td", { class: "num" }, now.live ? amps(now.live.setpoint) : "–"), h("td", { class: "num" }, cur === null ? "–" : amps(cur)),
        h("td", { class: "num" }, c.energy_wh !== null && c.energy_wh !== undefined ? kwh(c.energy_wh) : "–"),
        h("td", {}, now.live ? (now.live.limited_by || []).map(reason).join(", ") : "")));
    }
    $("#ongoing").replaceChildren(rows.length ? EC.table([t("Outlet"), t("Card"), t("Status"), t("Setpoint"), t("Measured"), t("Energy"), t("Why")], rows, { id: "ongoing-table" })
      : h("p", { class: "muted" }, t("No car is charging.")));
  }

  function renderCumulative() {
    const points = new Set(last24.map((s) => s.station_id + "-" + s.connector_id));
    const wh = last24.reduce((a, s) => a + (s.energy_wh || 0), 0);
    $("#cumulative").replaceChildren(
      h("div", { class: "count" }, h("span", {}, t("Sessions")), h("strong", { id: "cum-sessions" }, last24.length)),
      h("div", { class: "count" }, h("span", {}, t("Points used")), h("strong", {}, points.size)),
      h("div", { class: "count" }, h("span", {}, t("Energy")), h("strong", {}, kwh(wh))));
    renderChart();
  }

  function renderChart() {
    const now = Date.now(), hour = 3600e3, start = now - 24 * hour;
    const buckets = new Array(24).fill(0);
    for (const s of last24) {
      const a = Math.max(Date.parse(s.start), start), b = s.end ? Date.parse(s.end) : now;
      const span = Math.max(b - Date.parse(s.start), 1);
      for (let i = 0; i < 24; i++) {
        const lo = start + i * hour, hi = lo + hour, overlap = Math.min(hi, b) - Math.max(lo, a);
        if (overlap > 0) buckets[i] += (s.energy_wh || 0) * overlap / span;
      }
    }
    const max = Math.max(...buckets, 1000), W = 720, H = 180, pad = 28, bw = (W - pad) / 24;
    const NS = "http://www.w3.org/2000/svg";
    const el = (tag, attrs, text) => { const e = document.createElementNS(NS, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); if (text) e.textContent = text; return e; };
    const svg = el("svg", { viewBox: `0 0 ${W} ${H + 20}`, role: "img", "aria-label": t("Energy over the last 24 hours"), class: "energy" });
    svg.append(el("text", { x: 0, y: 10, class: "axis" }, kwh(max)));
    buckets.forEach((v, i) => {
      const bh = (H - 10) * v / max, x = pad + i * bw;
      const r = el("rect", { x: x + 1, y: H - bh, width: bw - 2, height: bh, class: "bar-energy" });
      r.append(el("title", {}, kwh(v)));
      svg.append(r);
      if (i % 4 === 0) svg.append(el("text", { x, y: H + 14, class: "axis" }, new Date(start + i * hour).getHours() + ":00"));
    });
    svg.append(el("line", { x1: pad, y1: H, x2: W, y2: H, class: "axis-line" }));
    $("#energy-chart").replaceChildren(svg);
  }

  function renderLive() {
    renderTree(); renderCounts(); renderOngoing();
    const zones = lastStatus ? lastStatus.zones : [];
    $("#zone-bars").replaceChildren(...(zones.length ? zoneBars(zones) : [h("p", { class: "muted" }, t("The controller has not run a cycle yet."))]));
  }

  async function refreshAlarms() {
    const list = await api("GET", "/alarms");
    $("#alarms").replaceChildren(list.length ? EC.alarmsTable(list, () => refreshAlarms().catch(() => {}), { id: "alarms-table" })
      : h("p", { class: "muted", id: "no-alarms" }, t("No active alarm.")));
  }

  let refreshing = false, lastKey = "";
  async function refreshStations() {
    if (refreshing) return;
    refreshing = true;
    try { stations = await api("GET", "/stations"); } finally { refreshing = false; }
    renderLive();
  }

  async function load() {
    [site, stations] = await Promise.all([api("GET", "/site"), api("GET", "/stations")]);
    try { lastStatus = await api("GET", "/status"); } catch (e) { lastStatus = null; }
    const from = new Date(Date.now() - 24 * 3600e3).toISOString();
    last24 = await api("GET", "/sessions?limit=1000&from=" + encodeURIComponent(from));
    renderLive(); renderCumulative();
    live((doc) => {
      lastStatus = doc;
      renderLive();
      // A status change (a car plugged in, a session ended): fetch the session details too.
      const key = doc.connectors.map((c) => c.station + c.connector + c.status).join("|") + doc.stations_online.join(",");
      if (key !== lastKey) { lastKey = key; refreshStations(); refreshAlarms().catch(() => {}); }
    });
    await refreshAlarms();
    setInterval(() => refreshAlarms().catch(() => {}), 10000);
    setInterval(async () => { last24 = await api("GET", "/sessions?limit=1000&from=" + encodeURIComponent(new Date(Date.now() - 24 * 3600e3).toISOString())); renderCumulative(); }, 60000);
  }
  load().catch((e) => EC.flash(e.message, "error"));
  void num; void when; void duration;
})();
