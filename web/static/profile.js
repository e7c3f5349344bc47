// profile.js — a user's profile (header, counts, follow button, video grid,
// followers/following lists) and the settings screen (edit own profile,
// links to privacy and, for operators, the dashboard; log out).

import { api, ApiError, qs } from "/static/api.js";
import { logout, navigate } from "/static/app.js";
import { avatar, count, h, icon, ICONS, toast } from "/static/dom.js";
import { field, showErrors } from "/static/form.js";
import { videoGrid } from "/static/grid.js";
import { followingSet, session, setFollow } from "/static/session.js";

function peopleDialog(user, which) {
  const list = h("ul", { class: "people" });
  const status = h("p", { class: "hint" }, "Loading…");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show more");
  const title = which === "followers" ? `Followers of @${user.username}` : `@${user.username} follows`;
  let cursor = null;
  async function load() {
    try {
      const page = await api("GET", `/api/v1/users/${user.id}/${which}${qs({ limit: 50, cursor })}`);
      list.append(...page.items.map((u) => h("li", {},
        h("a", { href: `/@${u.username}`, "data-link": true }, avatar(u, "small"), ` ${u.display_name} `,
          h("span", { class: "handle" }, `@${u.username}`)))));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      status.textContent = list.children.length ? "" : "Nobody yet.";
    } catch (e) {
      status.textContent = `Could not load the list: ${e.message}`;
      status.setAttribute("role", "alert");
    }
  }
  more.addEventListener("click", load);
  const dlg = h("dialog", { class: "sheet small", "aria-label": title },
    h("div", { class: "sheet-head" }, h("h2", {}, title),
      h("button", { type: "button", class: "icon-button", "aria-label": "Close", onclick: () => dlg.close() }, icon(ICONS.close))),
    h("div", { class: "sheet-body" }, status, list, more));
  dlg.addEventListener("close", () => dlg.remove());
  dlg.addEventListener("click", (ev) => {
    if (ev.target === dlg || ev.target.closest("a[data-link]")) dlg.close();
  });
  document.body.append(dlg);
  dlg.showModal();
  load();
}

export async function profileScreen(view, username) {
  let user;
  try {
    user = await api("GET", `/api/v1/users/@${encodeURIComponent(username)}`);
  } catch (e) {
    view.replaceChildren(h("div", { class: "card failure", role: "alert" },
      h("p", {}, e instanceof ApiError && e.status === 404 ? `There is no user @${username}.` : `Could not load the profile: ${e.message}`)));
    return;
  }
  const me = session.me;
  const mine = me && me.id === user.id;
  const followers = h("span", { class: "n" }, count(user.followers));
  let action = null;
  if (mine) {
    action = h("a", { class: "button secondary", href: "/settings", "data-link": true }, "Edit profile");
  } else if (me) {
    let following = (await followingSet().catch(() => new Set())).has(user.id);
    action = h("button", { type: "button", class: "follow-profile" });
    const show = () => {
      action.textContent = following ? "Following" : "Follow";
      action.setAttribute("aria-pressed", String(following));
      action.classList.toggle("secondary", following);
    };
    show();
    action.addEventListener("click", async () => {
      action.disabled = true;
      try {
        await setFollow(user.id, !following);
        following = !following;
        user.followers += following ? 1 : -1;
        followers.textContent = count(user.followers);
        show();
      } catch (e) {
        toast(`Could not ${following ? "unfollow" : "follow"}: ${e.message}`, "error");
      } finally {
        action.disabled = false;
      }
    });
  } else {
    action = h("a", { class: "button", href: `/login?next=${encodeURIComponent(location.pathname)}`, "data-link": true }, "Log in to follow");
  }
  view.replaceChildren(h("section", { class: "page profile" },
    h("header", { class: "profile-head" },
      avatar(user, "large"),
      h("div", {},
        h("h1", {}, user.display_name),
        h("p", { class: "handle" }, `@${user.username} · data in region ${user.home_region}`),
        user.bio ? h("p", { class: "bio" }, user.bio) : null,
        h("p", { class: "counts" },
          h("button", { type: "button", class: "link", onclick: () => peopleDialog(user, "followers") },
            followers, " followers"),
          h("button", { type: "button", class: "link", onclick: () => peopleDialog(user, "following") },
            h("span", { class: "n" }, count(user.following)), " following"),
          h("span", {}, h("span", { class: "n" }, count(user.videos)), " videos")),
        action)),
    h("h2", { class: "visually-hidden" }, "Videos"),
    videoGrid(`/api/v1/users/${user.id}/videos`, { empty: mine ? "You have not uploaded anything yet." : "No videos yet." })));
}

export async function settingsScreen(view) {
  const me = session.me;
  if (!me) {
    navigate(`/login?next=/settings`, { replace: true });
    return;
  }
  const form = h("form", { class: "card", "aria-labelledby": "settings-title" },
    h("h1", { id: "settings-title" }, "Edit profile"),
    field("Display name", h("input", { name: "display_name", value: me.display_name, maxlength: 50, required: true }),
      "Up to 50 characters."),
    field("Bio", h("textarea", { name: "bio", rows: 4, maxlength: 300 }, me.bio || ""), "Up to 300 characters."),
    h("p", { class: "form-error error", role: "alert" }),
    h("button", { type: "submit" }, "Save"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const updated = await api("PATCH", "/api/v1/me", { display_name: data.display_name, bio: data.bio });
      Object.assign(session.me, updated);
      form.querySelector(".form-error").textContent = "";
      toast("Profile saved.");
    } catch (e) {
      if (e instanceof ApiError) showErrors(form, e);
      else throw e;
    } finally {
      button.disabled = false;
    }
  });
  view.replaceChildren(h("div", { class: "page" }, form,
    h("section", { class: "card", "aria-labelledby": "account-title" },
      h("h2", { id: "account-title" }, "Account"),
      h("p", {}, `Signed in as @${me.username} (${me.email}). Your data lives in region ${me.home_region}.`),
      h("ul", { class: "plain" },
        h("li", {}, h("a", { href: `/@${me.username}`, "data-link": true }, "Your profile")),
        h("li", {}, h("a", { href: "/privacy", "data-link": true }, "Privacy: where your data lives, download it, delete your account")),
        h("li", {}, h("a", { href: "/admin", "data-link": true }, "Operators' dashboard"), " (operators only)")),
      h("button", { type: "button", class: "secondary", onclick: logout }, "Log out"))));
}
