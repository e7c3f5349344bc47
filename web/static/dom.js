// dom.js — the few DOM helpers every screen shares: h() builds elements,
// toast() tells the user something, and formatters for counts and times.
//
// The Content-Security-Policy allows no inline styles, so nothing here sets a
// style attribute: layout lives in style.css, and the rare computed value
// (a progress width) goes through the CSSOM, which the policy allows.

const SVG_NS = "http://www.w3.org/2000/svg";

function fill(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "props") Object.assign(el, v);
    else if (v === true) el.setAttribute(k, "");
    else if (v !== false && v != null) el.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// h("a", {href, class, onclick, props: {muted: true}}, ...children)
export function h(tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

// The same for SVG elements (charts, icons).
export function s(tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

// A 24x24 stroke icon from one or more path strings; decorative.
export function icon(...paths) {
  return s("svg", { viewBox: "0 0 24 24", class: "icon", "aria-hidden": "true", focusable: "false" },
    paths.map((d) => s("path", { d })));
}

export const ICONS = {
  heart: "M12 21s-7.5-4.6-9.5-9.3C1 8 3.4 4.5 7 4.5c2 0 3.4 1.1 5 3 1.6-1.9 3-3 5-3 3.6 0 6 3.5 4.5 7.2C19.5 16.4 12 21 12 21z",
  comment: "M4 5h16v11H9l-5 4z",
  share: "M14 4l7 7-7 7v-4c-5 0-8 1.5-10 5 .5-5 3-10 10-11z",
  plus: "M12 5v14M5 12h14",
  check: "M5 12l5 5 9-10",
  muted: "M4 9h4l5-4v14l-5-4H4zM16 9l5 6M21 9l-5 6",
  sound: "M4 9h4l5-4v14l-5-4H4zM16 8c1.5 1.2 1.5 6.8 0 8M18.5 5.5c3 2.8 3 10.2 0 13",
  not: "M3 3l18 18M10.6 6.1A10 10 0 0 1 12 6c5 0 9 6 9 6a17 17 0 0 1-3 3.5M6.5 7.5C4.3 9.2 3 12 3 12s4 6 9 6c1.5 0 2.9-.4 4.1-1",
  close: "M6 6l12 12M18 6L6 18",
  trash: "M5 7h14M10 7V4h4v3M7 7l1 13h8l1-13",
};

let toastTimer = 0;

// Shows a short message in the live region (read out by screen readers).
// kind "error" makes it an alert, styled as one.
export function toast(message, kind = "info") {
  const t = document.getElementById("toast");
  t.textContent = message;
  t.className = `show ${kind}`;
  t.setAttribute("role", kind === "error" ? "alert" : "status");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove("show"), kind === "error" ? 6000 : 3500);
}

// 1234 -> "1.2K", 2500000 -> "2.5M".
export function count(n) {
  n = Number(n) || 0;
  if (n < 1000) return String(n);
  const [d, suffix] = n < 1e6 ? [1e3, "K"] : n < 1e9 ? [1e6, "M"] : [1e9, "B"];
  const v = n / d;
  return `${v < 10 ? v.toFixed(1).replace(/\.0$/, "") : Math.floor(v)}${suffix}`;
}

// "3 min ago", "2 d ago", or a date for older times.
export function ago(iso) {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return "";
  const sec = Math.max(0, (Date.now() - t) / 1000);
  if (sec < 60) return "just now";
  if (sec < 3600) return `${Math.floor(sec / 60)} min ago`;
  if (sec < 86400) return `${Math.floor(sec / 3600)} h ago`;
  if (sec < 30 * 86400) return `${Math.floor(sec / 86400)} d ago`;
  return new Date(t).toLocaleDateString();
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

// A caption as text with #hashtags and @mentions turned into links. The tag
// rule follows the server's (docs/api.md): letters, digits, _ or combining
// marks, at least one letter, not preceded by a letter or digit.
const TAG_RE = /(^|[^\p{L}\p{N}])#([\p{L}\p{N}_\p{M}]{1,50})/gu;

export function captionNodes(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(TAG_RE)) {
    const tag = m[2];
    if (!/\p{L}/u.test(tag)) continue;
    const start = m.index + m[1].length;
    out.push(text.slice(last, start));
    out.push(h("a", { href: `/tag/${encodeURIComponent(tag.toLowerCase())}`, "data-link": true, class: "tag" }, `#${tag}`));
    last = start + 1 + tag.length;
  }
  out.push(text.slice(last));
  return out;
}

export function hashtagsOf(text) {
  const tags = [];
  for (const m of text.matchAll(TAG_RE)) {
    const t = m[2].toLowerCase();
    if (/\p{L}/u.test(t) && !tags.includes(t)) tags.push(t);
  }
  return tags;
}

// A round avatar with the user's initial (no profile pictures yet).
export function avatar(user, size = "") {
  const name = user.display_name || user.username || "?";
  let hash = 0;
  for (const ch of user.username || "") hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return h("span", { class: `avatar hue${hash % 8} ${size}`, "aria-hidden": "true" }, [...name][0].toUpperCase());
}

// A message in place of content that could not load, with a retry button.
export function failure(message, retry) {
  return h("div", { class: "card failure", role: "alert" },
    h("p", {}, message),
    retry ? h("button", { type: "button", onclick: retry }, "Try again") : null);
}
