// search.js — search (users, hashtags, videos; as you type, and the query
// kept in the address so results can be shared) and hashtag pages.

import { api, ApiError, qs } from "/static/api.js";
import { avatar, count, h } from "/static/dom.js";
import { tile, videoGrid } from "/static/grid.js";

export function tagScreen(view, tag) {
  const name = tag.replace(/^#/, "");
  view.replaceChildren(h("section", { class: "page" },
    h("h1", {}, `#${name}`),
    videoGrid(`/api/v1/hashtags/${encodeURIComponent(name)}/videos`, { empty: `No videos with #${name} yet.` })));
}

export function searchScreen(view) {
  const input = h("input", { type: "search", name: "q", id: "search-q", maxlength: 100, autocomplete: "off",
    placeholder: "Search people, #hashtags, videos", value: new URLSearchParams(location.search).get("q") || "" });
  const results = h("div", { class: "results", "aria-live": "polite" });
  const form = h("form", { role: "search", class: "searchbar" },
    h("label", { for: "search-q", class: "visually-hidden" }, "Search"), input,
    h("button", { type: "submit" }, "Search"));
  let timer = 0;
  let serial = 0;

  async function run(push) {
    const q = input.value.trim();
    const url = q ? `/search${qs({ q })}` : "/search";
    if (push) history.replaceState(null, "", url);
    if (!q) {
      results.replaceChildren(h("p", { class: "hint" }, "Find people by username, hashtags, or words in captions."));
      return;
    }
    const mine = ++serial;
    try {
      const r = await api("GET", `/api/v1/search${qs({ q, limit: 12 })}`);
      if (mine !== serial) return;
      const sections = [];
      if (r.users.length) sections.push(h("section", {}, h("h2", {}, "People"), h("ul", { class: "people" },
        r.users.map((u) => h("li", {}, h("a", { href: `/@${u.username}`, "data-link": true },
          avatar(u, "small"), ` ${u.display_name} `, h("span", { class: "handle" }, `@${u.username} · ${count(u.followers)} followers`)))))));
      if (r.hashtags.length) sections.push(h("section", {}, h("h2", {}, "Hashtags"), h("ul", { class: "chips" },
        r.hashtags.map((t) => h("li", {}, h("a", { href: `/tag/${encodeURIComponent(t.tag)}`, "data-link": true, class: "chip" },
          `#${t.tag}`, h("span", { class: "hint" }, ` ${count(t.videos)} videos`)))))));
      if (r.videos.length) sections.push(h("section", {}, h("h2", {}, "Videos"), h("ul", { class: "grid" }, r.videos.map(tile))));
      results.replaceChildren(...(sections.length ? sections : [h("p", {}, `Nothing found for “${q}”.`)]));
    } catch (e) {
      if (mine !== serial) return;
      results.replaceChildren(h("p", { class: "error", role: "alert" },
        e instanceof ApiError && e.fields?.q ? `Search ${e.fields.q}` : `Search failed: ${e.message}`));
    }
  }
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => run(true), 250);
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    clearTimeout(timer);
    run(true);
  });
  view.replaceChildren(h("section", { class: "page" }, h("h1", {}, "Search"), form, results));
  input.focus();
  run(false);
  return () => clearTimeout(timer);
}
