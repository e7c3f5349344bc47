// accounts.js — sign up (with the country picker that shows the home region
// the data will live in, and why) and log in.

import { api, ApiError } from "/static/api.js";
import { navigate } from "/static/app.js";
import { h, toast } from "/static/dom.js";
import { field, showErrors } from "/static/form.js";
import { signedIn } from "/static/session.js";

// Where to go after signing in: ?next=/path (same site only), else the feed.
function nextPath() {
  const next = new URLSearchParams(location.search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

async function submitting(form, fn) {
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await fn();
  } catch (e) {
    if (e instanceof ApiError) showErrors(form, e);
    else throw e;
  } finally {
    button.disabled = false;
  }
}

export async function signupScreen(view) {
  let regions = [];
  let regionsError = null;
  try {
    regions = (await api("GET", "/api/v1/regions")).items;
  } catch (e) {
    regionsError = e;
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
  const residency = h("div", { class: "residency", "aria-live": "polite", id: "residency" });
  select.addEventListener("change", () => {
    const r = byCountry.get(select.value);
    if (!r) return residency.replaceChildren();
    const sites = r.sites.map((s) => `${s.name} (${countryNames.of(s.country) || s.country}, ${s.role})`);
    residency.replaceChildren(
      h("strong", {}, `Your data will live in region “${r.name}”`),
      h("p", {}, `Stored only at: ${sites.join(", ")}.`),
      h("p", {}, "Your home region follows from the country you live in and never changes. " +
        "Your personal data stays in that region's sites, and staff of other regions cannot read it."));
  });
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "signup-title" },
    h("h1", { id: "signup-title" }, "Create your account"),
    regionsError ? h("p", { class: "error", role: "alert" }, `The list of countries could not be loaded: ${regionsError.message}`) : null,
    field("Username", h("input", { name: "username", autocomplete: "username", required: true, minlength: 3, maxlength: 30 }),
      "3–30 letters, digits, _ or ."),
    field("E-mail", h("input", { name: "email", type: "email", autocomplete: "email", required: true })),
    field("Password", h("input", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8 }),
      "At least 8 characters."),
    field("Country you live in", select),
    residency,
    h("p", { class: "form-error error", role: "alert" }),
    h("button", { type: "submit" }, "Sign up"),
    h("p", {}, "Already have an account? ", h("a", { href: "/login", "data-link": true }, "Log in")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      const res = await api("POST", "/api/v1/accounts", Object.fromEntries(new FormData(form)));
      signedIn(res);
      toast(`Welcome to Reel, @${res.user.username}!`);
      navigate(nextPath(), { replace: true });
    });
  });
  view.replaceChildren(form);
}

export function loginScreen(view) {
  const form = h("form", { class: "card", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "Log in"),
    field("Username", h("input", { name: "username", autocomplete: "username", required: true })),
    field("Password", h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    h("p", { class: "form-error error", role: "alert" }),
    h("button", { type: "submit" }, "Log in"),
    h("p", {}, "New here? ", h("a", { href: "/signup", "data-link": true }, "Create an account")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      const res = await api("POST", "/api/v1/sessions", Object.fromEntries(new FormData(form)));
      signedIn(res);
      navigate(nextPath(), { replace: true });
    });
  });
  view.replaceChildren(form);
}
