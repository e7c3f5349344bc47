// app.js — the web client: a small path router over screens. Each screen is
// a function that renders into <main id="view">. Links marked data-link are
// handled here so navigation never reloads the page.

import { api, ApiError, setToken, token } from "/static/api.js";

const view = document.getElementById("view");
let me = null;

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else if (v !== false && v != null) el.setAttribute(k, v);
  }
  for (const c of children.flat()) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

export function toast(message) {
  const t = document.getElementById("toast");
  t.textContent = message;
  t.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove("show"), 4000);
}

export function navigate(path) {
  history.pushState(null, "", path);
  route();
}

function showError(e) {
  toast(e instanceof ApiError ? e.message : "Something went wrong.");
  if (!(e instanceof ApiError)) console.warn(e);
}

async function loadMe() {
  me = null;
  if (token()) {
    try {
      me = await api("GET", "/api/v1/me");
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) showError(e);
    }
  }
  const links = document.getElementById("account-links");
  links.replaceChildren(
    me
      ? h("span", {}, h("a", { href: `/@${me.username}`, "data-link": true }, `@${me.username}`), " ",
          h("a", { href: "/privacy", "data-link": true }, "Privacy"), " ",
          h("button", { type: "button", class: "link", onclick: logout }, "Log out"))
      : h("span", {}, h("a", { href: "/login", "data-link": true }, "Log in"), " ",
          h("a", { href: "/signup", "data-link": true }, "Sign up")));
}

async function logout() {
  try {
    await api("DELETE", "/api/v1/sessions/current");
  } catch (e) {
    /* the token may already be invalid */
  }
  setToken(null);
  await loadMe();
  navigate("/");
}

function field(label, input, hint) {
  const id = `f-${input.name}`;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input,
    h("p", { class: "error", id: `${id}-error`, "aria-live": "polite" }), hint ? h("p", { class: "hint" }, hint) : "");
}

function showFieldErrors(form, err) {
  for (const p of form.querySelectorAll(".error")) p.textContent = "";
  for (const [name, message] of Object.entries(err.fields || {})) {
    const p = form.querySelector(`#f-${CSS.escape(name)}-error`);
    if (p) p.textContent = `${name.replace("_", " ")} ${message}`;
  }
  toast(err.message);
}

async function signupScreen() {
  let regions = [];
  try {
    regions = (await api("GET", "/api/v1/regions")).items;
  } catch (e) {
    showError(e);
  }
  const countryNames = new Intl.DisplayNames(["en"], { type: "region" });
  const byCountry = new Map();
  for (const r of regions) for (const c of r.countries) byCountry.set(c, r);
  const options = [...byCountry.keys()]
    .map((c) => ({ c, name: countryNames.of(c) || c }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const select = h("select", { name: "country", required: true },
    h("option", { value: "" }, "Choose your country"),
    options.map(({ c, name }) => h("option", { value: c }, name)));
  const residency = h("p", { class: "residency", "aria-live": "polite" });
  select.addEventListener("change", () => {
    const r = byCountry.get(select.value);
    if (!r) return residency.replaceChildren();
    const sites = r.sites.map((s) => `${s.name} (${countryNames.of(s.country) || s.country}, ${s.role})`);
    residency.replaceChildren(
      h("strong", {}, `Your data will live in region “${r.name}”`),
      h("br"),
      `Stored only at: ${sites.join(", ")}. Your home region is decided by the country you live in ` +
        "and never changes; staff of other regions cannot read your personal data.");
  });
  const form = h("form", { class: "card", novalidate: true },
    h("h1", {}, "Create your account"),
    field("Username", h("input", { name: "username", autocomplete: "username", required: true, minlength: 3, maxlength: 30 }),
      "3–30 letters, digits, _ or ."),
    field("E-mail", h("input", { name: "email", type: "email", autocomplete: "email", required: true })),
    field("Password", h("input", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8 }),
      "At least 8 characters."),
    field("Country", select),
    residency,
    h("button", { type: "submit" }, "Sign up"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    try {
      const res = await api("POST", "/api/v1/accounts", data);
      setToken(res.token);
      await loadMe();
      navigate("/");
    } catch (e) {
      if (e instanceof ApiError) showFieldErrors(form, e);
      else showError(e);
    }
  });
  view.replaceChildren(form);
}

function loginScreen() {
  const form = h("form", { class: "card" },
    h("h1", {}, "Log in"),
    field("Username", h("input", { name: "username", autocomplete: "username", required: true })),
    field("Password", h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    h("button", { type: "submit" }, "Log in"),
    h("p", {}, "New here? ", h("a", { href: "/signup", "data-link": true }, "Create an account")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const res = await api("POST", "/api/v1/sessions", Object.fromEntries(new FormData(form)));
      setToken(res.token);
      await loadMe();
      navigate("/");
    } catch (e) {
      if (e instanceof ApiError) showFieldErrors(form, e);
      else showError(e);
    }
  });
  view.replaceChildren(form);
}

async function profileScreen(username) {
  try {
    const user = await api("GET", `/api/v1/users/@${encodeURIComponent(username)}`);
    view.replaceChildren(h("section", { class: "card profile" },
      h("h1", {}, user.display_name),
      h("p", { class: "handle" }, `@${user.username} · region ${user.home_region}`),
      h("p", {}, user.bio),
      h("p", { class: "counts" }, `${user.followers} followers · ${user.following} following · ${user.videos} videos`)));
  } catch (e) {
    view.replaceChildren(h("p", { class: "card" }, e.message));
  }
}

function homeScreen() {
  view.replaceChildren(h("section", { class: "card" }, h("h1", {}, "For You"),
    h("p", {}, me ? `Welcome, ${me.display_name}.` : "Sign up to get a feed that learns what you like.")));
}

const routes = [
  [/^\/$/, homeScreen],
  [/^\/signup$/, signupScreen],
  [/^\/login$/, loginScreen],
  [/^\/@([A-Za-z0-9_.]+)$/, profileScreen],
];

export function route() {
  const path = location.pathname;
  for (const [re, screen] of routes) {
    const m = path.match(re);
    if (m) {
      Promise.resolve(screen(...m.slice(1))).catch(showError);
      view.focus({ preventScroll: true });
      return;
    }
  }
  view.replaceChildren(h("p", { class: "card" }, "This page does not exist."));
}

document.addEventListener("click", (ev) => {
  const a = ev.target.closest("a[data-link]");
  if (!a || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
  ev.preventDefault();
  navigate(a.getAttribute("href"));
});
window.addEventListener("popstate", route);

loadMe().then(route);
