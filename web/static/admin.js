// admin.js — the operators' dashboard: active users of a region (day, week,
// month) drawn as SVG charts, trending videos and hashtags, and the region's
// audit log with its verification status.
//
// Everything here goes through the operator routes, which ask the custodian
// gateway: an operator sees only their own region's figures, and a plain
// user is refused (403) — the screen then says so rather than showing empty
// charts. Charts are plain SVG built here (no chart library): bars for the
// periods, bars per country, and a line of daily actives when the server
// gives a series. Each chart has a text table beside it for screen readers.

import { api, ApiError, qs } from "/static/api.js";
import { navigate } from "/static/app.js";
import { ago, count, h, s } from "/static/dom.js";
import { session } from "/static/session.js";

const PERIODS = [["day", "Daily"], ["week", "Weekly"], ["month", "Monthly"]];

// A vertical bar chart of [{label, value}] as an SVG element.
export function barChart(data, { title, width = 360, height = 200 } = {}) {
  const pad = { l: 44, r: 8, t: 12, b: 28 };
  const max = Math.max(1, ...data.map((d) => d.value));
  const w = width - pad.l - pad.r;
  const hgt = height - pad.t - pad.b;
  const bw = w / Math.max(1, data.length);
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart bar-chart", role: "img", "aria-label": title },
    s("title", {}, title));
  for (let i = 0; i <= 4; i++) {
    const y = pad.t + hgt - (hgt * i) / 4;
    svg.append(s("line", { x1: pad.l, x2: width - pad.r, y1: y, y2: y, class: "grid-line" }),
      s("text", { x: pad.l - 6, y: y + 4, "text-anchor": "end", class: "axis" }, count(Math.round((max * i) / 4))));
  }
  data.forEach((d, i) => {
    const bh = (hgt * d.value) / max;
    const x = pad.l + i * bw + bw * 0.15;
    svg.append(
      s("rect", { x, y: pad.t + hgt - bh, width: bw * 0.7, height: Math.max(bh, d.value ? 1 : 0), class: `bar c${i % 6}` },
        s("title", {}, `${d.label}: ${d.value}`)),
      s("text", { x: x + bw * 0.35, y: height - 10, "text-anchor": "middle", class: "axis" }, d.label),
      s("text", { x: x + bw * 0.35, y: pad.t + hgt - bh - 4, "text-anchor": "middle", class: "value" }, count(d.value)));
  });
  return svg;
}

// A line chart of [{label, value}] in order (daily actives over time).
export function lineChart(data, { title, width = 560, height = 200 } = {}) {
  const pad = { l: 44, r: 12, t: 12, b: 28 };
  const max = Math.max(1, ...data.map((d) => d.value));
  const w = width - pad.l - pad.r;
  const hgt = height - pad.t - pad.b;
  const x = (i) => pad.l + (data.length < 2 ? w / 2 : (w * i) / (data.length - 1));
  const y = (v) => pad.t + hgt - (hgt * v) / max;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart line-chart", role: "img", "aria-label": title },
    s("title", {}, title));
  for (let i = 0; i <= 4; i++) {
    svg.append(s("line", { x1: pad.l, x2: width - pad.r, y1: y((max * i) / 4), y2: y((max * i) / 4), class: "grid-line" }),
      s("text", { x: pad.l - 6, y: y((max * i) / 4) + 4, "text-anchor": "end", class: "axis" }, count(Math.round((max * i) / 4))));
  }
  svg.append(s("polyline", { points: data.map((d, i) => `${x(i)},${y(d.value)}`).join(" "), class: "line" }));
  data.forEach((d, i) => {
    svg.append(s("circle", { cx: x(i), cy: y(d.value), r: 3, class: "dot" }, s("title", {}, `${d.label}: ${d.value}`)));
    if (data.length <= 8 || i % Math.ceil(data.length / 8) === 0) {
      svg.append(s("text", { x: x(i), y: height - 10, "text-anchor": "middle", class: "axis" }, d.label));
    }
  });
  return svg;
}

function dataTable(caption, rows, headers) {
  return h("table", { class: "data" }, h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => (i ? h("td", {}, c) : h("th", { scope: "row" }, c)))))));
}

function refusal(e, what) {
  if (e instanceof ApiError && e.status === 403) return `You may not see ${what}: ${e.message}`;
  if (e instanceof ApiError && e.status === 404) return `${what[0].toUpperCase()}${what.slice(1)} are not available on this server yet.`;
  return `Could not load ${what}: ${e.message}`;
}

async function activeSection(region) {
  const box = h("section", { class: "card wide", "aria-labelledby": "active-title" },
    h("h2", { id: "active-title" }, `Active users — region ${region}`));
  const results = await Promise.allSettled(PERIODS.map(([p]) =>
    api("GET", `/api/v1/admin/stats/active-users${qs({ region, period: p })}`)));
  const failed = results.find((r) => r.status === "rejected");
  if (failed && results.every((r) => r.status === "rejected")) {
    box.append(h("p", { class: "error", role: "alert" }, refusal(failed.reason, "active users")));
    return box;
  }
  const bars = [];
  results.forEach((r, i) => {
    if (r.status === "fulfilled") bars.push({ label: PERIODS[i][1], value: Number(r.value.active_users) || 0 });
  });
  const charts = h("div", { class: "charts" },
    h("figure", {}, barChart(bars, { title: `Active users in ${region} by period` }),
      dataTable("Active users by period", bars.map((b) => [b.label, String(b.value)]), ["Period", "Active users"])));
  // Optional detail the server may give: a daily series and a per-country split.
  const day = results[0].status === "fulfilled" ? results[0].value : null;
  const month = results[2].status === "fulfilled" ? results[2].value : null;
  const series = (month?.series || month?.days || day?.series || []).map((d) => ({
    label: String(d.day || d.date || "").slice(5), value: Number(d.active_users) || 0 }));
  if (series.length > 1) {
    charts.append(h("figure", {}, lineChart(series, { title: `Daily active users in ${region}` }),
      dataTable("Daily active users", series.map((d) => [d.label, String(d.value)]), ["Day", "Active users"])));
  }
  const countries = (month?.countries || day?.countries || []).map((c) => ({
    label: c.country, value: Number(c.active_users) || 0 })).sort((a, b) => b.value - a.value).slice(0, 8);
  if (countries.length) {
    charts.append(h("figure", {}, barChart(countries, { title: `Monthly active users in ${region} by country` }),
      dataTable("Monthly active users by country", countries.map((c) => [c.label, String(c.value)]), ["Country", "Active users"])));
  }
  box.append(charts);
  return box;
}

async function trendingSection(region) {
  const box = h("section", { class: "card wide", "aria-labelledby": "trending-title" },
    h("h2", { id: "trending-title" }, `Trending — region ${region}`));
  try {
    const t = await api("GET", `/api/v1/admin/stats/trending${qs({ region, limit: 10 })}`);
    const videos = t.videos || [];
    const tags = t.hashtags || [];
    const label = (v) => v.video?.caption || v.caption || `video ${v.video_id || v.id}`;
    box.append(h("div", { class: "columns" },
      h("div", {}, h("h3", {}, "Videos"), videos.length ? h("ol", { class: "ranked" }, videos.map((v) =>
        h("li", {}, h("a", { href: `/v/${v.video?.id || v.video_id || v.id}`, "data-link": true }, label(v)),
          h("span", { class: "hint" }, ` score ${Number(v.score || 0).toFixed(1)}`))))
        : h("p", { class: "hint" }, "Nothing trending yet.")),
      h("div", {}, h("h3", {}, "Hashtags"), tags.length ? h("ol", { class: "ranked" }, tags.map((x) =>
        h("li", {}, h("a", { href: `/tag/${encodeURIComponent(x.tag)}`, "data-link": true }, `#${x.tag}`),
          h("span", { class: "hint" }, ` score ${Number(x.score || 0).toFixed(1)}`))))
        : h("p", { class: "hint" }, "Nothing trending yet."))));
  } catch (e) {
    box.append(h("p", { class: "error", role: "alert" }, refusal(e, "trending videos and hashtags")));
  }
  return box;
}

async function auditSection(region) {
  const box = h("section", { class: "card wide", "aria-labelledby": "audit-title" },
    h("h2", { id: "audit-title" }, `Audit log — region ${region}`));
  const rows = h("tbody", {});
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Older records");
  let cursor = null;
  let first = true;
  async function load() {
    more.disabled = true;
    try {
      const page = await api("GET", `/api/v1/admin/audit${qs({ region, limit: 25, cursor })}`);
      if (first) {
        first = false;
        const v = page.verification || {};
        box.append(h("div", { class: `verify ${v.intact ? "ok" : "bad"}`, role: "status", "data-intact": String(!!v.intact) },
          h("strong", {}, v.intact ? "✔ Verified: the log is intact" : "✘ Verification FAILED"),
          h("p", {}, v.message || ""),
          h("p", { class: "hint" }, `${v.records ?? "?"} records, ${v.heads ?? "?"} signed heads checked` +
            (v.tree_size != null ? `; latest signed head covers ${v.tree_size} records` : "") +
            (v.signed_at ? `, signed ${ago(v.signed_at)}` : "") +
            (v.root ? `; root ${String(v.root).slice(0, 16)}…` : ""))),
        h("table", { class: "data audit" },
          h("caption", {}, "Accesses to personal data, newest first"),
          h("thead", {}, h("tr", {}, ["#", "Time", "Actor", "Action", "Fields", "Purpose", "Outcome"].map((t) => h("th", { scope: "col" }, t)))),
          rows), more);
      }
      for (const r of page.items) {
        rows.append(h("tr", { class: r.outcome },
          h("th", { scope: "row" }, String(r.index)),
          h("td", {}, h("time", { datetime: r.time }, new Date(r.time).toLocaleString())),
          h("td", {}, `${r.role} ${r.actor_id} (${r.actor_region})`),
          h("td", {}, r.action),
          h("td", {}, (r.fields || []).join(", ")),
          h("td", {}, r.purpose || "—"),
          h("td", {}, r.outcome)));
      }
      cursor = page.next_cursor;
      more.hidden = !cursor;
      if (!rows.children.length) rows.append(h("tr", {}, h("td", { colspan: 7 }, "No records yet.")));
    } catch (e) {
      box.append(h("p", { class: "error", role: "alert" }, refusal(e, "the audit log")));
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener("click", load);
  await load();
  return box;
}

export async function adminScreen(view) {
  const me = session.me;
  if (!me) {
    navigate("/login?next=/admin", { replace: true });
    return;
  }
  const params = new URLSearchParams(location.search);
  const region = params.get("region") || me.home_region;
  let regions = [];
  try {
    regions = (await api("GET", "/api/v1/regions")).items.map((r) => r.name);
  } catch (e) {
    regions = [region];
  }
  const picker = h("select", { id: "admin-region", name: "region" },
    regions.map((r) => h("option", { value: r, selected: r === region }, r)));
  picker.addEventListener("change", () => navigate(`/admin${qs({ region: picker.value })}`));
  const page = h("div", { class: "page dashboard" },
    h("div", { class: "dash-head" }, h("h1", {}, "Operators' dashboard"),
      h("label", { for: "admin-region" }, "Region "), picker),
    h("p", { class: "hint" }, "Aggregates only: counts and sketches, never a person's records. " +
      "Every view of personal data is recorded in the region's audit log."));
  view.replaceChildren(page);
  const sections = await Promise.all([activeSection(region), trendingSection(region), auditSection(region)]);
  page.append(...sections);
}
