// comments.js — the comments drawer: a modal <dialog> (focus stays inside,
// Escape closes it) listing a video's comments oldest first, a page at a
// time, with a form to write one and a delete button on the comments the
// user may delete (their own, or any on their own video).

import { api, qs } from "/static/api.js";
import { ago, avatar, h, icon, ICONS, toast } from "/static/dom.js";
import { session } from "/static/session.js";

const PAGE = 20;
const COMMENT_MAX = 500;

export function openCommentsDrawer(video, onCount) {
  const me = session.me;
  const list = h("ol", { class: "comments", "aria-live": "polite" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show more comments");
  const status = h("p", { class: "hint" }, "Loading comments…");
  const heading = h("h2", { id: "comments-title" }, "Comments");
  let cursor = null;
  let total = video.comments;

  const setTotal = (n) => {
    total = Math.max(0, n);
    heading.textContent = `Comments (${total})`;
    onCount?.(total);
  };
  setTotal(total);

  function row(c) {
    const mine = me && (c.author?.id === me.id || video.creator?.id === me.id);
    const li = h("li", { class: "comment", "data-comment-id": c.id },
      avatar(c.author || {}, "small"),
      h("div", {},
        h("p", { class: "by" }, h("a", { href: `/@${c.author?.username}`, "data-link": true }, `@${c.author?.username}`),
          " ", h("time", { datetime: c.created_at }, ago(c.created_at))),
        h("p", { class: "text" }, c.text)),
      mine ? h("button", { type: "button", class: "icon-button", "aria-label": "Delete comment",
        onclick: async () => {
          try {
            await api("DELETE", `/api/v1/comments/${c.id}`);
            li.remove();
            setTotal(total - 1);
            toast("Comment deleted.");
          } catch (e) {
            toast(`Could not delete the comment: ${e.message}`, "error");
          }
        } }, icon(ICONS.trash)) : null);
    return li;
  }

  async function load() {
    more.disabled = true;
    try {
      const page = await api("GET", `/api/v1/videos/${video.id}/comments${qs({ limit: PAGE, cursor })}`);
      list.append(...page.items.map(row));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      status.textContent = list.children.length ? "" : "No comments yet. Say something nice!";
    } catch (e) {
      status.textContent = `Could not load comments: ${e.message}`;
      status.setAttribute("role", "alert");
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener("click", load);

  let form;
  if (me) {
    const text = h("textarea", { name: "text", rows: 2, maxlength: COMMENT_MAX, required: true,
      "aria-label": "Add a comment", placeholder: "Add a comment…" });
    const left = h("span", { class: "hint", "aria-live": "polite" });
    const err = h("p", { class: "error", role: "alert" });
    text.addEventListener("input", () => {
      const n = [...text.value].length;
      left.textContent = n > COMMENT_MAX - 50 ? `${COMMENT_MAX - n} characters left` : "";
    });
    form = h("form", { class: "comment-form", novalidate: true }, text, h("div", { class: "row" }, left,
      h("button", { type: "submit" }, "Post")), err);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      err.textContent = "";
      const value = text.value.trim();
      if (!value) {
        err.textContent = "Write something first.";
        return;
      }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const c = await api("POST", `/api/v1/videos/${video.id}/comments`, { text: value });
        if (!cursor) list.append(row(c)); // on the last page: it belongs at the end
        status.textContent = "";
        text.value = "";
        setTotal(total + 1);
        toast("Comment posted.");
      } catch (e) {
        err.textContent = e.fields?.text ? `Comment ${e.fields.text}` : e.message;
      } finally {
        button.disabled = false;
      }
    });
  } else {
    form = h("p", { class: "hint" }, h("a", { href: "/login", "data-link": true }, "Log in"), " to comment.");
  }

  const dlg = h("dialog", { class: "sheet", "aria-labelledby": "comments-title" },
    h("div", { class: "sheet-head" }, heading,
      h("button", { type: "button", class: "icon-button", "aria-label": "Close comments",
        onclick: () => dlg.close() }, icon(ICONS.close))),
    h("div", { class: "sheet-body" }, status, list, more),
    form);
  dlg.addEventListener("close", () => dlg.remove());
  dlg.addEventListener("click", (ev) => {
    if (ev.target === dlg) dlg.close(); // a click on the backdrop
    if (ev.target.closest("a[data-link]")) dlg.close();
  });
  document.body.append(dlg);
  dlg.showModal();
  (form.querySelector?.("textarea") || dlg.querySelector("button")).focus();
  load();
  return dlg;
}
