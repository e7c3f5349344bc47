// privacy.js — the privacy page: where my data lives (home region, its sites
// and their countries), download my data (GET /api/v1/me/export, saved as a
// JSON file), and delete my account (DELETE /api/v1/me: deactivated at once,
// erased after the grace period), with what each step means spelled out.

import { api, ApiError } from "/static/api.js";
import { navigate } from "/static/app.js";
import { bytes, h, toast } from "/static/dom.js";
import { session, signedOut } from "/static/session.js";

const DEFAULT_GRACE_DAYS = 30;

function regionSection(me, regions) {
  const names = new Intl.DisplayNames(["en"], { type: "region" });
  const region = regions.find((r) => r.name === me.home_region);
  const country = names.of(me.country) || me.country;
  return h("section", { class: "card", "aria-labelledby": "where-title" },
    h("h2", { id: "where-title" }, "Where your data lives"),
    h("p", {}, "Your home region is ", h("strong", { class: "home-region" }, me.home_region),
      `, because you live in ${country}. It never changes.`),
    region ? h("ul", { class: "sites" }, region.sites.map((s) =>
      h("li", {}, h("strong", {}, s.name), ` — ${names.of(s.country) || s.country}, ${s.role === "primary" ? "primary copy" : "replica"}`)))
      : h("p", { class: "hint" }, "The list of sites could not be loaded."),
    h("p", {}, "Your personal data — e-mail, profile, who you follow, what you like and comment, what you watch — " +
      "is stored only at these sites. Staff of other regions cannot read it; every access by staff of your region " +
      "is recorded in a tamper-evident audit log. Your public videos and public counters can be shown everywhere."));
}

function exportSection(me) {
  const status = h("p", { class: "hint", "aria-live": "polite" });
  const link = h("p", {});
  const button = h("button", { type: "button", id: "export-button" }, "Download my data");
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "Gathering your data…";
    status.removeAttribute("role");
    link.replaceChildren();
    try {
      const data = await api("GET", "/api/v1/me/export");
      const text = JSON.stringify(data, null, 2);
      const blob = new Blob([text], { type: "application/json" });
      const url = URL.createObjectURL(blob);
      const name = `reel-data-${me.username}-${new Date().toISOString().slice(0, 10)}.json`;
      const a = h("a", { href: url, download: name, class: "button secondary", id: "export-link" }, `Save ${name}`);
      link.replaceChildren(a);
      const parts = data && typeof data === "object" ? Object.keys(data) : [];
      status.textContent = `Your data is ready (${bytes(blob.size)}${parts.length ? `: ${parts.join(", ")}` : ""}).`;
      a.click();
    } catch (e) {
      status.textContent = `Could not export your data: ${e.message}`;
      status.setAttribute("role", "alert");
    } finally {
      button.disabled = false;
    }
  });
  return h("section", { class: "card", "aria-labelledby": "export-title" },
    h("h2", { id: "export-title" }, "Download your data"),
    h("p", {}, "One JSON file with everything Reel holds about you: your profile, follows, likes, comments, " +
      "uploads, watch history and events, sessions, what the recommendations learned about your interests, and " +
      "the audit records of staff access to your data."),
    button, status, link);
}

function deleteSection(me) {
  const confirm = h("input", { name: "confirm", id: "f-confirm", autocomplete: "off", "aria-describedby": "f-confirm-hint" });
  const error = h("p", { class: "error", role: "alert" });
  const button = h("button", { type: "submit", class: "danger" }, "Delete my account");
  const form = h("form", { class: "delete-form" },
    h("div", { class: "field" },
      h("label", { for: "f-confirm" }, `Type your username (${me.username}) to confirm`), confirm,
      h("p", { class: "hint", id: "f-confirm-hint" }, "This cannot be undone after the grace period.")),
    error, button);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    if (confirm.value.trim().toLowerCase() !== me.username.toLowerCase()) {
      error.textContent = "The username does not match.";
      confirm.focus();
      return;
    }
    button.disabled = true;
    try {
      const res = await api("DELETE", "/api/v1/me");
      const when = res?.erase_after || res?.erasure_at || res?.purge_at;
      signedOut();
      toast(when ? `Your account is deactivated and will be erased on ${new Date(when).toLocaleDateString()}.`
        : "Your account is deactivated and will be erased after the grace period.");
      navigate("/", { replace: true });
    } catch (e) {
      error.textContent = `Could not delete your account: ${e.message}`;
    } finally {
      button.disabled = false;
    }
  });
  return h("section", { class: "card", "aria-labelledby": "delete-title" },
    h("h2", { id: "delete-title" }, "Delete your account"),
    h("p", {}, "Your account is deactivated at once: you are logged out everywhere, and your profile, videos " +
      "and comments disappear from Reel. ",
      h("strong", {}, `After a grace period of ${DEFAULT_GRACE_DAYS} days`), " (the server's setting may differ) " +
      "everything is erased for good — from your region's primary site and its replicas, the event log, media, " +
      "search and the recommendation model. Only pseudonymised audit entries remain, as the law requires. " +
      "Public counters (likes, followers) are decreased."),
    h("p", {}, "Download your data first if you want to keep a copy."),
    form);
}

export async function privacyScreen(view) {
  const me = session.me;
  if (!me) {
    navigate("/login?next=/privacy", { replace: true });
    return;
  }
  let regions = [];
  try {
    regions = (await api("GET", "/api/v1/regions")).items;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    toast(`The list of regions could not be loaded: ${e.message}`, "error");
  }
  view.replaceChildren(h("div", { class: "page privacy" },
    h("h1", {}, "Privacy"),
    regionSection(me, regions), exportSection(me), deleteSection(me)));
}
