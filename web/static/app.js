// app.js — the web client's entry: a path router over screens, the header's
// account links, and the page-wide hooks (link clicks, back/forward, the
// event flush on page hide).
//
// A screen is a module exporting an async function (view, params) that
// renders into <main id="view"> and may return a cleanup function, called
// when the user leaves the screen (the feed stops its players and reports
// the last watch there). Only the feed is loaded with the first page; every
// other screen is imported when first visited, which keeps the first screen
// small (the budget is 100 KB of JS+CSS before video).

import { ApiError, api } from "/static/api.js";
import { h, toast } from "/static/dom.js";
import { installFlushOnHide } from "/static/events.js";
import { feedScreen } from "/static/feed.js";
import { loadMe, onSessionChange, session, signedOut } from "/static/session.js";

const view = document.getElementById("view");
let cleanup = null;
let routeSerial = 0;

const lazy = (module, name) => async (...args) => (await import(module))[name](...args);

// [pattern, screen, title]; params are the pattern's groups.
const routes = [
  [/^\/$/, (v) => feedScreen(v, { tab: "foryou" }), "For You"],
  [/^\/following$/, (v) => feedScreen(v, { tab: "following" }), "Following"],
  [/^\/v\/(\d{1,20})$/, (v, id) => feedScreen(v, { tab: "video", videoId: id }), "Video"],
  [/^\/signup$/, lazy("/static/accounts.js", "signupScreen"), "Sign up"],
  [/^\/login$/, lazy("/static/accounts.js", "loginScreen"), "Log in"],
  [/^\/@([A-Za-z0-9_.]+)$/, lazy("/static/profile.js", "profileScreen"), "Profile"],
  [/^\/settings$/, lazy("/static/profile.js", "settingsScreen"), "Settings"],
  [/^\/tag\/([^/]+)$/, lazy("/static/search.js", "tagScreen"), "Hashtag"],
  [/^\/search$/, lazy("/static/search.js", "searchScreen"), "Search"],
  [/^\/upload$/, lazy("/static/upload.js", "uploadScreen"), "Upload"],
  [/^\/privacy$/, lazy("/static/privacy.js", "privacyScreen"), "Privacy"],
  [/^\/admin$/, lazy("/static/admin.js", "adminScreen"), "Operators"],
];

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  route();
}

export function showError(e) {
  toast(e instanceof ApiError ? e.message : "Something went wrong. Reload the page and try again.", "error");
  if (!(e instanceof ApiError)) console.warn(e);
}

async function route() {
  const serial = ++routeSerial;
  if (cleanup) {
    try {
      cleanup();
    } catch (e) {
      console.warn(e);
    }
    cleanup = null;
  }
  const path = location.pathname;
  document.body.dataset.screen = "";
  for (const a of document.querySelectorAll(".mainnav a[data-link]")) {
    const href = a.getAttribute("href");
    const on = href === path || (href === "/" && (path === "/following" || path.startsWith("/v/")));
    if (on) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  for (const [re, screen, title] of routes) {
    const m = path.match(re);
    if (!m) continue;
    document.title = `${title} · Reel`;
    document.body.dataset.screen = title.toLowerCase().replace(/\s+/g, "-");
    view.replaceChildren(h("p", { class: "loading", role: "status" }, "Loading…"));
    try {
      const params = m.slice(1).map((p) => {
        try {
          return decodeURIComponent(p);
        } catch {
          return p;
        }
      });
      const done = await screen(view, ...params);
      if (serial !== routeSerial) {
        if (typeof done === "function") done(); // the user already moved on
      } else {
        cleanup = typeof done === "function" ? done : null;
      }
    } catch (e) {
      if (serial !== routeSerial) return;
      view.replaceChildren(h("div", { class: "card failure", role: "alert" },
        h("p", {}, e instanceof ApiError ? e.message : "This screen could not be loaded."),
        h("button", { type: "button", onclick: route }, "Try again")));
      if (!(e instanceof ApiError)) console.warn(e);
    }
    if (serial === routeSerial && !view.contains(document.activeElement)) view.focus({ preventScroll: true });
    return;
  }
  document.title = "Not found · Reel";
  view.replaceChildren(h("div", { class: "card" }, h("h1", {}, "Page not found"),
    h("p", {}, "This page does not exist. "), h("a", { href: "/", "data-link": true }, "Go to the feed")));
}

export async function logout() {
  try {
    await api("DELETE", "/api/v1/sessions/current");
  } catch (e) {
    /* the token may already be invalid: forget it all the same */
  }
  signedOut();
  toast("You are logged out.");
  navigate("/");
}

function renderAccountLinks(me) {
  const links = document.getElementById("account-links");
  const a = (href, text, cls) => h("a", { href, "data-link": true, class: cls }, text);
  links.replaceChildren(...(me
    ? [a(`/@${me.username}`, "Profile", "nav-profile"), a("/settings", "Settings", "nav-settings"),
      h("button", { type: "button", class: "link nav-logout", onclick: logout }, "Log out")]
    : [a("/login", "Log in", "nav-login"), a("/signup", "Sign up", "nav-signup")]));
}

document.addEventListener("click", (ev) => {
  const a = ev.target.closest("a[data-link]");
  if (!a || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  ev.preventDefault();
  const href = a.getAttribute("href");
  if (href === location.pathname + location.search) return;
  navigate(href);
});
window.addEventListener("popstate", route);
window.addEventListener("unhandledrejection", (ev) => {
  ev.preventDefault();
  showError(ev.reason);
});

onSessionChange(renderAccountLinks);
installFlushOnHide();
loadMe().catch(showError).finally(route);
