// admin.js — the operators' dashboard: active users of a region (day, week,
// month, and a 30-day daily series) and of every region (day, month) drawn
// as SVG charts, trending videos and hashtags, and the region's audit log
// with its verification status.
//
// Everything here goes through the operator routes, which ask the custodian
// gateway: an operator sees only their own region's figures, and a plain
// user is refused (403) — the screen then says so rather than showing empty
// charts. Charts are plain SVG built here (no chart library): bars for the
// periods and the regions, a line for the daily series. Each chart has a text table beside it for screen readers.

import { api, ApiError, qs } from "/static/api.js";
import { navigate } from "/static/app.js";
import { ago, count, h, s } from "/static/dom.js";
import { session } from "/static/session.js";

const PERIODS = [["day", "Daily"], ["week", "Weekly"], ["month", "Monthly"]];

// The top of an axis with four gridlines at round steps (1, 2 or 5 x 10^k).
function axisMax(values) {
  const raw = Math.max(1, ...values) / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((x) => x >= raw);
  return Math.max(4, step * 4);
}

// A vertical bar chart of [{label, value}] as an SVG element.
export function barChart(data, { title, width = 360, height = 200 } = {}) {
  const pad = { l: 44, r: 8, t: 12, b: 28 };
  const max = axisMax(data.map((d) => d.value));
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
  const max = axisMax(data.map((d) => d.value));
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

// Daily, weekly and monthly active users of one region (with a 30-day
// series of daily actives), and the day/month counts of every region from
// the overview (counts only, open to any operator).
async function activeSection(region) {
  const box = h("section", { class: "card wide", "aria-labelledby": "active-title" },
    h("h2", { id: "active-title" }, `Active users — region ${region}`));
  const [overview, ...periods] = await Promise.allSettled([
    api("GET", "/api/v1/admin/stats/overview"),
    ...PERIODS.map(([p]) => api("GET", `/api/v1/admin/stats/active-users${qs({ region, period: p, series: p === "day" ? 30 : null })}`)),
  ]);
  const charts = h("div", { class: "charts" });
  if (periods.every((r) => r.status === "rejected")) {
    charts.append(h("p", { class: "error", role: "alert" }, refusal(periods[0].reason, `active users of region ${region}`)));
  } else {
    const bars = [];
    periods.forEach((r, i) => {
      if (r.status === "fulfilled") bars.push({ label: PERIODS[i][1], value: Number(r.value.active_users) || 0 });
    });
    charts.append(h("figure", { class: "chart-periods" }, h("figcaption", {}, "Active users by period"), barChart(bars, { title: `Active users in ${region} by period` }),
      dataTable(`Active users in ${region} by period`, bars.map((b) => [b.label, String(b.value)]), ["Period", "Active users"])));
    const day = periods[0].status === "fulfilled" ? periods[0].value : null;
    const series = (day?.series || []).map((d) => ({ label: String(d.day).slice(5), value: Number(d.active_users) || 0 }));
    if (series.length > 1) {
      charts.append(h("figure", { class: "chart-daily" }, h("figcaption", {}, "Daily active users, last 30 days"), lineChart(series, { title: `Daily active users in ${region}, last ${series.length} days` }),
        dataTable(`Daily active users in ${region}`, series.map((d) => [d.label, String(d.value)]), ["Day", "Active users"])));
    }
  }
  if (overview.status === "fulfilled") {
    const items = overview.value.items || [];
    const bars = items.flatMap((r) => [
      { label: `${r.region} day`, value: Number(r.daily_active_users) || 0 },
      { label: `${r.region} month`, value: Number(r.monthly_active_users) || 0 }]);
    charts.append(h("figure", { class: "chart-regions" }, h("figcaption", {}, "Every region: daily and monthly active users"), barChart(bars, { title: "Daily and monthly active users of every region", width: 480 }),
      dataTable("Active users per region", items.map((r) => [r.region, String(r.daily_active_users), String(r.monthly_active_users)]),
        ["Region", "Daily", "Monthly"])));
  } else {
    charts.append(h("p", { class: "error", role: "alert" }, refusal(overview.reason, "the regions' overview")));
  }
  box.append(charts);
  return box;
}

async function trendingSection(region) {
  const box = h("section", { class: "card wide", "aria-labelledby": "trending-title" },
    h("h2", { id: "trending-title" }, `Trending — region ${region}`));
  try {
    const t = await api("GET", `/api/v1/admin/stats/trending${qs({ region, limit: 10 })}`);
    const videos = new Map((t.videos || []).map((v) => [v.id, v]));
    const scores = (t.scores || []).filter((x) => videos.has(x.video_id));
    const tags = t.hashtags || [];
    box.append(h("div", { class: "columns" },
      h("div", {}, h("h3", {}, "Videos"), scores.length ? h("ol", { class: "ranked trending-videos" }, scores.map((x) => {
        const v = videos.get(x.video_id);
        return h("li", {}, h("a", { href: `/v/${v.id}`, "data-link": true }, v.caption || `video ${v.id}`),
          h("span", { class: "hint" }, ` by @${v.creator?.username} · score ${Number(x.score).toFixed(1)}`));
      })) : h("p", { class: "hint" }, "Nothing trending yet.")),
      h("div", {}, h("h3", {}, "Hashtags"), tags.length ? h("ol", { class: "ranked trending-tags" }, tags.map((x) =>
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
