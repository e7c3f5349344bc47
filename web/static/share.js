// share.js — sharing a video: the link is /v/{id} on this site. The system
// share sheet where there is one (phones), else the clipboard, else a dialog
// with the link selected for copying by hand. A share is counted
// (POST /videos/{id}/shares) once the link was actually handed over.

import { api } from "/static/api.js";
import { h, toast } from "/static/dom.js";
import { session } from "/static/session.js";

export function videoLink(video) {
  return `${location.origin}/v/${video.id}`;
}

function copyDialog(url) {
  const input = h("input", { value: url, readonly: true, "aria-label": "Link to the video" });
  const dlg = h("dialog", { class: "sheet small", "aria-label": "Copy link" },
    h("form", { method: "dialog" },
      h("h2", {}, "Copy this link"),
      input,
      h("p", { class: "hint" }, "Your browser did not let Reel copy it for you."),
      h("button", { value: "close" }, "Done")));
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  input.select();
}

// Returns true if the link was handed over (and the share counted).
export async function shareVideo(video) {
  const url = videoLink(video);
  let shared = false;
  if (navigator.share && matchMedia("(pointer: coarse)").matches) {
    try {
      await navigator.share({ title: `@${video.creator?.username} on Reel`, text: video.caption, url });
      shared = true;
    } catch (e) {
      if (e.name === "AbortError") return false;
    }
  }
  if (!shared) {
    try {
      await navigator.clipboard.writeText(url);
      toast("Link copied to the clipboard.");
      shared = true;
    } catch (e) {
      copyDialog(url);
      shared = true;
    }
  }
  if (shared && session.me) {
    try {
      await api("POST", `/api/v1/videos/${video.id}/shares`);
      video.shares += 1;
    } catch (e) {
      toast(`The link is ready, but the share was not counted: ${e.message}`, "error");
      return false;
    }
  }
  return shared;
}
