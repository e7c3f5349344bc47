// upload.js — the upload screen: pick a file, write a caption (its hashtags
// are shown as they will be parsed), send it with a progress bar, then
// follow the video through processing until it is ready (and play it) or
// failed (and say why).
//
// Two transports. The resumable one (tus-style, for phones on bad networks)
// creates an upload with its size, then sends the file in CHUNK pieces, each
// at the offset the server holds; when a piece fails because the connection
// broke, it asks the server for its offset and goes on from there, waiting a
// little longer after each failure, so a dropped connection costs at most one
// piece. When the server has no resumable route (404/405 on create) the file
// goes as one multipart/form-data POST /api/v1/videos. Both report progress
// through XMLHttpRequest's upload events (fetch has none).

import { ApiError, api, authHeaders, problemOf } from "/static/api.js";
import { navigate } from "/static/app.js";
import { bytes, h, hashtagsOf } from "/static/dom.js";
import { pickRendition } from "/static/feed.js";
import { session } from "/static/session.js";

const CHUNK = 4 * 1024 * 1024;
const RETRIES = 8;
const CAPTION_MAX = 2200;
const POLL_MS = 1000;

// One XHR; resolves with {status, body, headers} for any HTTP answer and
// rejects with ApiError(0) when the connection fails.
function xhr(method, url, body, headers, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open(method, url);
    for (const [k, v] of Object.entries(headers || {})) x.setRequestHeader(k, v);
    x.upload.onprogress = (e) => onProgress?.(e.loaded);
    x.onload = () => {
      let data = null;
      try {
        data = x.responseText ? JSON.parse(x.responseText) : null;
      } catch {
        data = null;
      }
      resolve({ status: x.status, data, header: (n) => x.getResponseHeader(n) });
    };
    x.onerror = () => reject(new ApiError(0, null));
    x.ontimeout = () => reject(new ApiError(0, null));
    x.onabort = () => reject(new DOMException("upload cancelled", "AbortError"));
    signal?.addEventListener("abort", () => x.abort());
    x.send(body);
  });
}

function failed(res) {
  if (res.status === 429) {
    return new ApiError(429, { ...res.data, detail: `Too many uploads; try again in ${res.header("Retry-After") || "a few"} s.` });
  }
  return new ApiError(res.status, res.data);
}

async function multipart(file, caption, progress, signal) {
  const form = new FormData();
  form.append("caption", caption);
  form.append("file", file, file.name || "video");
  const res = await xhr("POST", "/api/v1/videos", form, authHeaders(), progress, signal);
  if (res.status < 200 || res.status >= 300) throw failed(res);
  return res.data;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function offsetOf(res) {
  const h = res.header("Upload-Offset");
  if (h != null && /^\d+$/.test(h)) return Number(h);
  if (res.data && Number.isSafeInteger(res.data.offset)) return res.data.offset;
  return null;
}

// Returns the Video, or null if the server has no resumable uploads.
async function resumable(file, caption, progress, signal, note) {
  const created = await api("POST", "/api/v1/uploads",
    { size: file.size, caption, filename: file.name || "video" }, { signal })
    .catch((e) => {
      if (e instanceof ApiError && (e.status === 404 || e.status === 405)) return null;
      throw e;
    });
  if (!created) return null;
  const url = created.url || `/api/v1/uploads/${created.id}`;
  let offset = created.offset || 0;
  let failures = 0;
  while (offset < file.size) {
    const end = Math.min(file.size, offset + CHUNK);
    const base = offset;
    try {
      const res = await xhr("PATCH", url, file.slice(base, end),
        { ...authHeaders(), "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(base) },
        (n) => progress(base + n), signal);
      if (res.status === 409) {
        const right = offsetOf(res);
        if (right == null) throw failed(res);
        offset = right;
        continue;
      }
      if (res.status < 200 || res.status >= 300) {
        if (res.status < 500) throw failed(res);
        throw new ApiError(res.status, res.data);
      }
      offset = offsetOf(res) ?? end;
      failures = 0;
      note("");
    } catch (e) {
      if (e.name === "AbortError" || (e instanceof ApiError && e.status && e.status < 500)) throw e;
      if (++failures > RETRIES) throw e;
      note(`Connection lost at ${bytes(base)}; resuming…`);
      await sleep(Math.min(8000, 250 * 2 ** failures));
      // Ask where the server is; an upload that vanished starts over.
      try {
        const state = await xhr("HEAD", url, null, authHeaders(), null, signal);
        const right = offsetOf(state);
        if (state.status === 404) throw new ApiError(404, { detail: "The upload expired on the server; start again." });
        if (right != null) offset = right;
      } catch (probe) {
        if (probe instanceof ApiError && probe.status === 404) throw probe;
      }
    }
    progress(offset);
  }
  const res = await xhr("POST", `${url}/finish`, null, authHeaders(), null, signal);
  if (res.status < 200 || res.status >= 300) throw failed(res);
  return res.data;
}

export async function uploadScreen(view) {
  if (!session.me) {
    navigate("/login?next=/upload", { replace: true });
    return;
  }
  const fileInput = h("input", { type: "file", name: "file", id: "f-file", accept: "video/*", required: true,
    "aria-describedby": "f-file-hint" });
  const caption = h("textarea", { name: "caption", id: "f-caption", rows: 3, maxlength: CAPTION_MAX,
    placeholder: "Describe your video. #hashtags help people find it.", "aria-describedby": "f-caption-hint" });
  const tags = h("p", { class: "hint", id: "f-caption-hint", "aria-live": "polite" }, "Hashtags: none yet.");
  caption.addEventListener("input", () => {
    const t = hashtagsOf(caption.value);
    tags.textContent = t.length ? `Hashtags: ${t.map((x) => `#${x}`).join(" ")}` : "Hashtags: none yet.";
  });
  const chosen = h("p", { class: "hint", id: "f-file-hint" }, "A video file (MP4, WebM, MOV…), vertical looks best.");
  fileInput.addEventListener("change", () => {
    const f = fileInput.files[0];
    chosen.textContent = f ? `${f.name} · ${bytes(f.size)}` : "";
  });
  const bar = h("progress", { max: 100, value: 0, id: "upload-progress", "aria-label": "Upload progress" });
  const barText = h("span", { class: "hint", "aria-live": "polite" });
  const note = h("p", { class: "hint", "aria-live": "polite" });
  const progressBox = h("div", { class: "progress", hidden: true }, bar, barText, note);
  const error = h("p", { class: "error upload-error", role: "alert" });
  const result = h("div", { class: "upload-result", "aria-live": "polite" });
  const submit = h("button", { type: "submit" }, "Upload");
  const cancel = h("button", { type: "button", class: "secondary", hidden: true }, "Cancel");
  const form = h("form", { class: "card upload", "aria-labelledby": "upload-title" },
    h("h1", { id: "upload-title" }, "Upload a video"),
    h("div", { class: "field" }, h("label", { for: "f-file" }, "Video file"), fileInput, chosen),
    h("div", { class: "field" }, h("label", { for: "f-caption" }, "Caption"), caption, tags),
    progressBox, error,
    h("div", { class: "row" }, submit, cancel),
    result);
  let controller = null;
  let polling = 0;
  let alive = true;

  cancel.addEventListener("click", () => controller?.abort());

  async function follow(video) {
    const show = (v) => {
      if (v.status === "ready") {
        const r = pickRendition(v.renditions, 640, window.devicePixelRatio || 1);
        result.replaceChildren(h("div", { class: "ready" },
          h("p", { class: "ok", "data-status": "ready" }, "Your video is ready."),
          r ? h("video", { src: r.url, controls: true, muted: true, loop: true, playsinline: true, autoplay: true,
            poster: v.thumbnail_url || null, class: "preview", "aria-label": "Your uploaded video",
            props: { muted: true } }) : null,
          h("p", {}, h("a", { href: `/v/${v.id}`, "data-link": true }, "Open it in the feed"), " · ",
            h("a", { href: `/@${session.me.username}`, "data-link": true }, "Your profile"))));
        return true;
      }
      if (v.status === "failed") {
        result.replaceChildren(h("p", { class: "error", role: "alert", "data-status": "failed" },
          `Processing failed: ${v.error || "the video could not be converted."} Try another file.`));
        return true;
      }
      result.replaceChildren(h("p", { class: "processing", "data-status": "processing" },
        h("span", { class: "spinner", "aria-hidden": "true" }),
        "Processing your video… It will appear on your profile when it is ready; you can leave this page."));
      return false;
    };
    if (show(video)) return;
    let wait = POLL_MS;
    const tick = async () => {
      if (!alive) return;
      try {
        const v = await api("GET", `/api/v1/videos/${video.id}`);
        if (show(v)) return;
      } catch (e) {
        note.textContent = `Could not check the video's state: ${e.message} Retrying…`;
      }
      wait = Math.min(5000, wait * 1.3);
      polling = setTimeout(tick, wait);
    };
    polling = setTimeout(tick, wait);
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    note.textContent = "";
    result.replaceChildren();
    const file = fileInput.files[0];
    if (!file) {
      error.textContent = "Choose a video file first.";
      fileInput.focus();
      return;
    }
    if (file.size === 0) {
      error.textContent = "This file is empty. Choose another one.";
      return;
    }
    if (/^(image|audio|text)\//.test(file.type)) {
      error.textContent = `This is not a video (${file.type}). Choose a video file.`;
      return;
    }
    controller = new AbortController();
    submit.disabled = true;
    cancel.hidden = false;
    progressBox.hidden = false;
    const progress = (n) => {
      const pct = Math.min(100, (100 * n) / file.size);
      bar.value = pct;
      barText.textContent = `${Math.floor(pct)}% · ${bytes(Math.min(n, file.size))} of ${bytes(file.size)}`;
    };
    progress(0);
    try {
      const text = caption.value.trim();
      const video = (await resumable(file, text, progress, controller.signal, (m) => { note.textContent = m; }))
        || (await multipart(file, text, progress, controller.signal));
      progress(file.size);
      barText.textContent = "Upload complete.";
      form.reset();
      tags.textContent = "Hashtags: none yet.";
      chosen.textContent = "";
      await follow(video);
    } catch (e) {
      if (e.name === "AbortError") {
        error.textContent = "Upload cancelled.";
      } else if (e instanceof ApiError) {
        const what = e.status === 413 ? "The file is too large. " : "";
        error.textContent = `${what}${e.fields?.caption ? `Caption ${e.fields.caption}` : e.message}`;
      } else {
        throw e;
      }
      progressBox.hidden = true;
    } finally {
      submit.disabled = false;
      cancel.hidden = true;
      controller = null;
    }
  });
  view.replaceChildren(h("div", { class: "page" }, form));
  return () => {
    alive = false;
    clearTimeout(polling);
    controller?.abort();
  };
}
