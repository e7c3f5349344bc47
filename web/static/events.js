// events.js — reports what the user really did (impression, play, watch,
// skip, not_interested) to POST /api/v1/events in batches.
//
// Events queue in memory and go out when BATCH_SIZE are waiting, after
// FLUSH_MS of quiet, and — so nothing is lost when the tab is closed or
// backgrounded — on visibilitychange to hidden and on pagehide. Those last
// flushes use fetch with keepalive, which outlives the page; sendBeacon would
// too but cannot carry the Authorization header. keepalive bodies are capped
// by browsers at 64 KiB in flight, so one request carries at most
// KEEPALIVE_MAX events.
//
// Each event carries its own "at" time, so a batch sent late still places
// events when they happened. A batch the server refuses as invalid (400) is
// dropped — resending it would fail again; one that fails for a network or
// server error is put back at the head of the queue, in order, and retried.
// Anonymous users are not tracked: the route needs a token.

import { api, ApiError, authHeaders, token } from "/static/api.js";
import { toast } from "/static/dom.js";

const BATCH_SIZE = 25;
const FLUSH_MS = 4000;
const KEEPALIVE_MAX = 200;
const QUEUE_MAX = 2000;

const queue = [];
let timer = 0;
let sending = null;
let warned = false;

export function track(type, videoId, watchedMs) {
  if (!token() || !videoId) return;
  const ev = { type, video_id: videoId, at: new Date().toISOString() };
  if (watchedMs != null) ev.watched_ms = Math.max(0, Math.min(86400000, Math.round(watchedMs)));
  queue.push(ev);
  if (queue.length > QUEUE_MAX) queue.splice(0, queue.length - QUEUE_MAX);
  if (queue.length >= BATCH_SIZE) flush();
  else {
    clearTimeout(timer);
    timer = setTimeout(flush, FLUSH_MS);
  }
}

// Sends what is queued. Returns a promise that settles when the request ends.
export function flush({ keepalive = false } = {}) {
  clearTimeout(timer);
  if (!queue.length || !token()) return sending || Promise.resolve();
  if (sending && !keepalive) return sending.then(() => flush());
  const batch = queue.splice(0, keepalive ? KEEPALIVE_MAX : 500);
  const p = send(batch, keepalive).finally(() => {
    if (sending === p) sending = null;
  });
  sending = p;
  if (keepalive && queue.length) flush({ keepalive: true });
  return p;
}

async function send(batch, keepalive) {
  try {
    if (keepalive) {
      // Not through api(): this must start synchronously while the page is
      // going away, and nobody waits for the answer.
      await fetch("/api/v1/events", {
        method: "POST",
        keepalive: true,
        headers: { "Content-Type": "application/json", ...authHeaders() },
        body: JSON.stringify({ events: batch }),
      });
    } else {
      await api("POST", "/api/v1/events", { events: batch });
    }
    warned = false;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 400 || e.status === 401 || e.status === 413)) {
      console.warn("events refused", e.problem);
      return;
    }
    queue.unshift(...batch);
    if (!warned) {
      warned = true;
      toast("Could not reach the server; your activity will be sent when the connection is back.", "error");
    }
    clearTimeout(timer);
    timer = setTimeout(flush, FLUSH_MS * 4);
  }
}

const beforeHide = new Set();

// fn() runs when the page is hidden or unloaded, before the flush: the feed
// uses it to close the current video's watch so it is in the batch.
export function onPageHide(fn) {
  beforeHide.add(fn);
  return () => beforeHide.delete(fn);
}

function hidden() {
  for (const fn of beforeHide) fn();
  flush({ keepalive: true });
}

export function installFlushOnHide() {
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") hidden();
  });
  window.addEventListener("pagehide", hidden);
}

// For tests and debugging: what is waiting.
export function pending() {
  return queue.slice();
}
