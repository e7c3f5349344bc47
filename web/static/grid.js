// grid.js — a paginated grid of video tiles (profiles, hashtags, search).
// Each tile links to /v/{id}; a creator sees their own processing and
// failed videos with a badge.

import { api, qs } from "/static/api.js";
import { count, h } from "/static/dom.js";

export function tile(v) {
  const badge = v.status && v.status !== "ready"
    ? h("span", { class: `badge ${v.status}` }, v.status === "processing" ? "Processing" : "Failed") : null;
  const label = `${v.caption || "Video"} by @${v.creator?.username}, ${v.likes} likes`;
  return h("li", { class: "tile" },
    h("a", { href: `/v/${v.id}`, "data-link": true, "aria-label": label },
      v.thumbnail_url ? h("img", { src: v.thumbnail_url, alt: "", loading: "lazy", width: 180, height: 320 })
        : h("span", { class: "tile-text" }, v.caption || "Video"),
      badge,
      h("span", { class: "tile-likes", "aria-hidden": "true" }, `♥ ${count(v.likes)}`)));
}

// A grid fed by a list route (items + next_cursor); returns its element.
export function videoGrid(path, { empty = "No videos yet.", limit = 24 } = {}) {
  const list = h("ul", { class: "grid" });
  const status = h("p", { class: "hint", role: "status" }, "Loading videos…");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more");
  let cursor = null;
  async function load() {
    more.disabled = true;
    try {
      const page = await api("GET", `${path}${qs({ limit, cursor })}`);
      list.append(...page.items.map(tile));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      status.textContent = list.children.length ? "" : empty;
      status.removeAttribute("role");
    } catch (e) {
      status.textContent = `Could not load videos: ${e.message}`;
      status.setAttribute("role", "alert");
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener("click", load);
  load();
  return h("div", { class: "grid-wrap" }, list, status, more);
}
