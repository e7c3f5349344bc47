// feed.js — the vertical feed: For You, Following, and /v/{id} (one video,
// then For You after it).
//
// Layout: one scroll-snap container, one full-height slide per video, so a
// touch swipe is the browser's own scrolling (smooth, with momentum) and
// always lands on a whole video. Wheel and keys are handled here: one wheel
// gesture or one arrow key moves exactly one video. An IntersectionObserver
// decides which slide is current (more than 60% visible).
//
// Players: only the current slide and its neighbours hold a <video>; the
// current one plays, the next one is loaded with preload="auto" so the swipe
// to it starts at once, and slides further away are emptied so a long
// session does not keep dozens of decoders. The rendition is the smallest
// whose height covers the slide in device pixels (the smallest of all with
// Save-Data on).
//
// Sound: videos start muted (browsers only autoplay muted video); the first
// tap turns sound on for the rest of the session, later taps pause and
// resume. A double tap likes.
//
// What is reported (events.js): "impression" when a video becomes current;
// "play" when its playback first starts in that showing; when it stops being
// current (swipe, tab change, page hidden, screen left) either "skip" — if
// it was watched less than SKIP_MS and less than half its length — or
// "watch" with watched_ms, the media time actually played, loops included
// (measured from currentTime, so stalls and pauses do not count).
// "not_interested" when the user says so. Likes, shares, comments and
// follows are logged by the server when the action succeeds.

import { api, ApiError, qs } from "/static/api.js";
import { avatar, captionNodes, count, h, icon, ICONS, toast } from "/static/dom.js";
import { onPageHide, track } from "/static/events.js";
import { followingSet, session, setFollow } from "/static/session.js";

const PAGE = 8;
const SKIP_MS = 2000;
const TAP_MS = 280;
const SETTLE_MS = 900;
const DWELL_MS = 150; // a free scroll must rest this long on a slide

let soundOn = false;

// Picks the rendition for a box of `cssHeight` pixels. Exported for tests.
export function pickRendition(renditions, cssHeight, dpr = 1, saveData = false) {
  const usable = (renditions || []).filter((r) => r.url).sort((a, b) => a.height - b.height);
  if (!usable.length) return null;
  if (saveData) return usable[0];
  const need = cssHeight * Math.min(dpr, 2) * 0.9;
  return usable.find((r) => r.height >= need) || usable[usable.length - 1];
}

// The source of videos for a feed. next() returns the next page (an array,
// empty at the end).
function source(kind) {
  let cursor = null;
  let done = false;
  return async () => {
    if (done) return [];
    if (kind === "following") {
      const page = await api("GET", `/api/v1/feed/following${qs({ limit: PAGE, cursor })}`);
      cursor = page.next_cursor;
      done = !cursor;
      return page.items;
    }
    const page = await api("GET", `/api/v1/feed/foryou${qs({ limit: PAGE })}`);
    return page.items;
  };
}

const reducedMotion = () => matchMedia("(prefers-reduced-motion: reduce)").matches;

function isTyping(target) {
  return target.closest?.("input, textarea, select, [contenteditable], dialog[open]");
}

// Renders the feed into view. Returns the screen's cleanup function.
export async function feedScreen(view, { tab, videoId }) {
  const me = session.me;
  const tabs = h("nav", { class: "feed-tabs", "aria-label": "Feeds" },
    h("a", { href: "/", "data-link": true, "aria-current": tab === "foryou" ? "page" : null }, "For You"),
    h("a", { href: "/following", "data-link": true, "aria-current": tab === "following" ? "page" : null }, "Following"));
  const scroller = h("div", { class: "feed", "aria-label": tab === "following" ? "Following feed" : "For You feed",
    role: "feed", "aria-busy": "true" });
  const status = h("div", { class: "feed-status", role: "status" });
  view.replaceChildren(h("section", { class: "feed-screen" }, tabs, scroller, status));

  if (tab === "following" && !me) {
    status.replaceChildren(h("div", { class: "card" },
      h("h1", {}, "Following"),
      h("p", {}, "Log in to see the newest videos of the people you follow."),
      h("a", { class: "button", href: "/login", "data-link": true }, "Log in")));
    scroller.setAttribute("aria-busy", "false");
    return () => {};
  }

  const state = {
    items: [],
    slides: [],
    current: -1,
    loading: null,
    exhausted: false,
    watch: null,
    seen: new Set(),
    following: new Set(),
    alive: true,
  };
  const next = source(tab === "following" ? "following" : "foryou");
  if (me) followingSet().then((set) => {
    state.following = set;
    for (const slide of state.slides) slide.refreshFollow?.();
  }).catch(() => {});

  // ---- loading -----------------------------------------------------------
  async function loadMore() {
    if (state.loading || state.exhausted) return state.loading;
    state.loading = (async () => {
      try {
        const items = await next();
        let added = 0;
        for (const v of items) {
          if (state.seen.has(v.id)) continue;
          state.seen.add(v.id);
          addSlide(v);
          added++;
        }
        if (!added) {
          state.exhausted = true;
          endSlide();
        }
        status.replaceChildren();
      } catch (e) {
        status.replaceChildren(h("div", { class: "card failure", role: "alert" },
          h("p", {}, `Could not load videos: ${e.message}`),
          h("button", { type: "button", onclick: () => { status.replaceChildren(); loadMore(); } }, "Try again")));
      } finally {
        state.loading = null;
        scroller.setAttribute("aria-busy", "false");
      }
    })();
    return state.loading;
  }

  function endSlide() {
    scroller.querySelector(".slide-end")?.remove();
    const empty = state.items.length === 0;
    const msg = empty
      ? tab === "following"
        ? "No videos yet from people you follow. Follow creators from their profiles or the For You feed."
        : "Nothing new for you right now. Check back later, or upload a video of your own."
      : "You're all caught up.";
    scroller.append(h("div", { class: "slide slide-end" }, h("div", { class: "card" },
      h("p", {}, msg),
      empty && tab === "following" ? h("a", { class: "button", href: "/", "data-link": true }, "Go to For You") : null,
      !empty ? h("button", { type: "button", onclick: () => {
        state.exhausted = false;
        scroller.querySelector(".slide-end")?.remove();
        loadMore();
      } }, "Check for more") : null)));
  }

  // ---- slides ------------------------------------------------------------
  function addSlide(video) {
    const index = state.items.length;
    state.items.push(video);
    const slide = buildSlide(video, index);
    state.slides.push(slide);
    const end = scroller.querySelector(".slide-end");
    scroller.insertBefore(slide, end);
    observer.observe(slide);
  }

  function buildSlide(video, index) {
    const stage = h("div", { class: "stage" });
    const heart = h("div", { class: "burst", "aria-hidden": "true" }, icon(ICONS.heart));
    const likeCount = h("span", { class: "n" }, count(video.likes));
    const likeBtn = h("button", { type: "button", class: "act like", "aria-pressed": String(!!video.liked_by_me),
      "aria-label": "Like", onclick: () => toggleLike(video, slide) }, icon(ICONS.heart), likeCount);
    const commentCount = h("span", { class: "n" }, count(video.comments));
    const commentBtn = h("button", { type: "button", class: "act", "aria-label": "Comments",
      onclick: () => openComments(video, slide) }, icon(ICONS.comment), commentCount);
    const shareCount = h("span", { class: "n" }, count(video.shares));
    const shareBtn = h("button", { type: "button", class: "act", "aria-label": "Share",
      onclick: () => share(video, slide) }, icon(ICONS.share), shareCount);
    const notBtn = h("button", { type: "button", class: "act", "aria-label": "Not interested",
      onclick: () => notInterested(video, slide) }, icon(ICONS.not), h("span", { class: "n" }, "Not for me"));
    const muteBtn = h("button", { type: "button", class: "act mute", "aria-label": "Sound",
      "aria-pressed": String(soundOn), onclick: (ev) => { ev.stopPropagation(); setSound(!soundOn); } },
      icon(soundOn ? ICONS.sound : ICONS.muted));
    const creator = video.creator || {};
    const followBtn = h("button", { type: "button", class: "follow", hidden: true,
      onclick: () => toggleFollow(creator, slide) }, "Follow");
    const slide = h("article", { class: "slide", "data-video-id": video.id, "aria-posinset": index + 1,
      "aria-label": `Video by @${creator.username}: ${video.caption || "no caption"}` },
      stage, heart,
      h("div", { class: "meta" },
        h("p", { class: "who" },
          h("a", { href: `/@${creator.username}`, "data-link": true, class: "creator" }, avatar(creator, "small"),
            h("strong", {}, `@${creator.username}`)),
          followBtn),
        h("p", { class: "caption" }, captionNodes(video.caption || ""))),
      h("div", { class: "actions" }, likeBtn, commentBtn, shareBtn, notBtn, muteBtn));
    Object.assign(slide, { video, stage, likeBtn, likeCount, commentCount, shareCount, muteBtn, heart, followBtn });
    slide.refreshFollow = () => {
      const mine = me && creator.id === me.id;
      const following = state.following.has(creator.id);
      followBtn.hidden = !!mine;
      followBtn.textContent = following ? "Following" : "Follow";
      followBtn.setAttribute("aria-pressed", String(following));
      followBtn.setAttribute("aria-label", `${following ? "Unfollow" : "Follow"} @${creator.username}`);
    };
    slide.refreshFollow();
    stage.addEventListener("click", (ev) => onTap(ev, slide));
    if (!pickRendition(video.renditions, 800)) {
      stage.append(h("div", { class: "nomedia" }, h("p", {}, video.caption || "A video"),
        h("p", { class: "hint" }, "This video has no playable media yet.")));
    }
    return slide;
  }

  // Gives slides near the current one a player; empties the others.
  function arrangePlayers() {
    state.slides.forEach((slide, i) => {
      const near = i >= state.current - 1 && i <= state.current + 1;
      if (near) ensurePlayer(slide, i === state.current + 1 ? "auto" : "metadata");
      else dropPlayer(slide);
    });
  }

  function ensurePlayer(slide, preload) {
    if (slide.player) {
      if (preload === "auto") slide.player.preload = "auto";
      return slide.player;
    }
    const r = pickRendition(slide.video.renditions, scroller.clientHeight || window.innerHeight,
      window.devicePixelRatio || 1, !!navigator.connection?.saveData);
    if (!r) return null;
    const v = h("video", {
      src: r.url, preload, loop: true, muted: true, playsinline: true, "data-rendition": r.name,
      poster: slide.video.thumbnail_url || null, "aria-label": "Video",
      props: { muted: true, loop: true, playsInline: true },
    });
    v.addEventListener("error", () => {
      if (!slide.isConnected) return;
      slide.stage.querySelector(".nomedia")?.remove();
      slide.stage.append(h("div", { class: "nomedia", role: "alert" },
        h("p", {}, "This video could not be played."),
        h("button", { type: "button", onclick: (ev) => { ev.stopPropagation(); dropPlayer(slide); arrangePlayers(); if (state.slides[state.current] === slide) startWatch(slide); } }, "Try again")));
    });
    slide.player = v;
    slide.stage.prepend(v);
    return v;
  }

  function dropPlayer(slide) {
    if (!slide.player) return;
    slide.player.pause();
    slide.player.removeAttribute("src");
    slide.player.load();
    slide.player.remove();
    slide.player = null;
  }

  // ---- watching ----------------------------------------------------------
  function startWatch(slide) {
    const v = slide.player;
    const w = { slide, ms: 0, last: null, played: false, loops: 0, open: true };
    state.watch = w;
    if (!v) return;
    v.muted = !soundOn;
    w.ontime = () => {
      const t = v.currentTime;
      if (w.last != null) {
        let d = t - w.last;
        if (d < 0 && v.duration) {
          d += v.duration; // looped back to the start
          w.loops++;
        }
        if (d > 0 && d < 2) w.ms += d * 1000;
      }
      w.last = t;
    };
    w.onplaying = () => {
      if (!w.played) {
        w.played = true;
        track("play", slide.video.id);
      }
      slide.classList.remove("paused");
    };
    w.onpause = () => slide.classList.add("paused");
    v.addEventListener("timeupdate", w.ontime);
    v.addEventListener("playing", w.onplaying);
    v.addEventListener("pause", w.onpause);
    w.last = v.currentTime;
    play(slide);
  }

  function play(slide) {
    const v = slide.player;
    if (!v) return;
    v.play().catch((e) => {
      if (e.name === "NotAllowedError" && !v.muted) {
        v.muted = true;
        setSound(false);
        v.play().catch(() => slide.classList.add("paused"));
      } else if (e.name !== "AbortError") {
        slide.classList.add("paused");
      }
    });
  }

  // Closes the current showing and reports it. Idempotent.
  function endWatch() {
    const w = state.watch;
    if (!w || !w.open) return;
    w.open = false;
    const v = w.slide.player;
    if (v) {
      w.ontime();
      v.removeEventListener("timeupdate", w.ontime);
      v.removeEventListener("playing", w.onplaying);
      v.removeEventListener("pause", w.onpause);
      v.pause();
    }
    const video = w.slide.video;
    if (!v) return; // nothing could play: the impression says it all
    const half = video.duration_ms ? video.duration_ms / 2 : Infinity;
    if (w.ms < SKIP_MS && w.ms < half && !w.loops) track("skip", video.id, w.ms);
    else track("watch", video.id, w.ms);
  }

  function setCurrent(i) {
    if (i === state.current || i < 0 || i >= state.slides.length) return;
    endWatch();
    state.current = i;
    state.slides.forEach((s, j) => s.classList.toggle("current", j === i));
    arrangePlayers();
    const slide = state.slides[i];
    track("impression", slide.video.id);
    startWatch(slide);
    if (i >= state.items.length - 3) loadMore();
  }

  // Moves by delta slides. Moves issued while one is under way add up. A
  // smooth scroll can be cut short — the browser re-snaps to the old slide
  // when the layout changes under it (slides appended, a slide restyled) —
  // so when scrolling ends, or at the latest after SETTLE_MS, a move that
  // has not arrived is finished with a jump.
  let pending = null;
  let settleTimer = 0;
  function go(delta) {
    const index = (pending ?? state.current) + delta;
    const target = state.slides[index];
    if (target) {
      pending = index;
      target.scrollIntoView({ behavior: reducedMotion() ? "auto" : "smooth", block: "start" });
      clearTimeout(settleTimer);
      settleTimer = setTimeout(settle, SETTLE_MS);
    } else if (delta > 0) {
      scroller.querySelector(".slide-end")?.scrollIntoView({ behavior: "smooth", block: "start" });
    }
  }

  function settle() {
    if (pending == null) return;
    const target = state.slides[pending];
    pending = null;
    clearTimeout(settleTimer);
    if (target && Math.abs(target.getBoundingClientRect().top - scroller.getBoundingClientRect().top) > 2) {
      target.scrollIntoView({ block: "start" });
    }
  }
  const onScrollEnd = () => setTimeout(settle, 50);

  const userScroll = () => {
    pending = null;
    clearTimeout(settleTimer);
  };

  // A slide becomes current — and counts an impression — only when the
  // scroll rests on it: during a move the slides it passes (or overshoots,
  // when a smooth scroll is slow) are not "shown". A move to a target waits
  // for the target; a free (touch) scroll waits for DWELL_MS without change.
  let candidate = -1;
  let dwellTimer = 0;
  const observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting || e.intersectionRatio < 0.6) continue;
      const i = state.slides.indexOf(e.target);
      if (i < 0 || (pending != null && i !== pending)) continue;
      candidate = i;
      clearTimeout(dwellTimer);
      dwellTimer = setTimeout(() => setCurrent(candidate), pending != null ? 0 : DWELL_MS);
    }
  }, { root: scroller, threshold: [0.6] });

  // ---- gestures and keys -------------------------------------------------
  let tapTimer = 0;
  let lastTap = 0;
  function onTap(ev, slide) {
    if (ev.target.closest("button, a")) return;
    const now = performance.now();
    if (now - lastTap < TAP_MS) {
      clearTimeout(tapTimer);
      lastTap = 0;
      like(slide, true, ev);
      return;
    }
    lastTap = now;
    tapTimer = setTimeout(() => singleTap(slide), TAP_MS);
  }

  function singleTap(slide) {
    const v = slide.player;
    if (!v) return;
    if (!soundOn) {
      setSound(true);
      if (v.paused) play(slide);
      return;
    }
    if (v.paused) play(slide);
    else v.pause();
  }

  function setSound(on) {
    soundOn = on;
    for (const slide of state.slides) {
      if (slide.player) slide.player.muted = !on || slide !== state.slides[state.current];
      slide.muteBtn.setAttribute("aria-pressed", String(on));
      slide.muteBtn.setAttribute("aria-label", on ? "Mute" : "Unmute");
      slide.muteBtn.replaceChildren(icon(on ? ICONS.sound : ICONS.muted));
    }
    const cur = state.slides[state.current];
    if (cur?.player) cur.player.muted = !on;
  }

  let wheelLock = 0;
  let wheelSum = 0;
  function onWheel(ev) {
    if (isTyping(ev.target) || Math.abs(ev.deltaY) < Math.abs(ev.deltaX)) return;
    ev.preventDefault();
    const now = performance.now();
    if (now < wheelLock) {
      wheelLock = now + 180; // the same gesture (trackpad inertia) is still going
      return;
    }
    wheelSum += ev.deltaMode === 1 ? ev.deltaY * 40 : ev.deltaY;
    if (Math.abs(wheelSum) >= 40) {
      go(wheelSum > 0 ? 1 : -1);
      wheelSum = 0;
      wheelLock = now + 450;
    }
  }

  function onKey(ev) {
    if (ev.defaultPrevented || isTyping(ev.target) || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const slide = state.slides[state.current];
    const keys = {
      ArrowDown: () => go(1), PageDown: () => go(1), j: () => go(1),
      ArrowUp: () => go(-1), PageUp: () => go(-1), k: () => go(-1),
      " ": () => slide && (slide.player?.paused ? play(slide) : slide.player?.pause()),
      m: () => setSound(!soundOn),
      l: () => slide && toggleLike(slide.video, slide),
      c: () => slide && openComments(slide.video, slide),
    };
    const fn = keys[ev.key];
    if (!fn) return;
    if (ev.key === " " && ev.target.closest("button, a")) return;
    ev.preventDefault();
    fn();
  }

  // ---- actions -----------------------------------------------------------
  function needLogin(what) {
    if (session.me) return false;
    toast(`Log in to ${what}.`, "error");
    return true;
  }

  function showLike(slide) {
    const v = slide.video;
    slide.likeBtn.setAttribute("aria-pressed", String(!!v.liked_by_me));
    slide.likeCount.textContent = count(v.likes);
  }

  async function like(slide, on, ev) {
    if (ev) {
      slide.heart.classList.remove("pop");
      void slide.heart.offsetWidth; // restart the animation
      slide.heart.classList.add("pop");
    }
    if (needLogin("like videos")) return;
    const v = slide.video;
    if (!!v.liked_by_me === on) return;
    v.liked_by_me = on;
    v.likes = Math.max(0, v.likes + (on ? 1 : -1));
    showLike(slide);
    try {
      await api(on ? "PUT" : "DELETE", `/api/v1/videos/${v.id}/like`);
    } catch (e) {
      v.liked_by_me = !on;
      v.likes = Math.max(0, v.likes + (on ? -1 : 1));
      showLike(slide);
      toast(`Could not ${on ? "like" : "unlike"} the video: ${e.message}`, "error");
    }
  }

  function toggleLike(video, slide) {
    return like(slide, !video.liked_by_me);
  }

  async function toggleFollow(creator, slide) {
    if (needLogin("follow creators")) return;
    const on = !state.following.has(creator.id);
    try {
      await setFollow(creator.id, on);
      state.following = await followingSet();
      for (const s of state.slides) if (s.video.creator?.id === creator.id) s.refreshFollow();
      toast(on ? `You follow @${creator.username}.` : `You no longer follow @${creator.username}.`);
    } catch (e) {
      toast(`Could not ${on ? "follow" : "unfollow"}: ${e.message}`, "error");
    }
    slide.followBtn.focus();
  }

  async function openComments(video, slide) {
    const { openCommentsDrawer } = await import("/static/comments.js");
    openCommentsDrawer(video, (n) => { video.comments = n; slide.commentCount.textContent = count(n); });
  }

  async function share(video, slide) {
    const { shareVideo } = await import("/static/share.js");
    if (await shareVideo(video)) slide.shareCount.textContent = count(video.shares);
  }

  function notInterested(video, slide) {
    if (needLogin("tune your feed")) return;
    track("not_interested", video.id);
    slide.classList.add("dismissed");
    toast("Thanks — you will see fewer videos like this.");
    if (state.slides[state.current] === slide) go(1);
  }

  // ---- start -------------------------------------------------------------
  scroller.addEventListener("wheel", onWheel, { passive: false });
  scroller.addEventListener("scrollend", onScrollEnd);
  scroller.addEventListener("touchstart", userScroll, { passive: true });
  document.addEventListener("keydown", onKey);
  const unHide = onPageHide(endWatch);
  const onVisible = () => {
    if (document.visibilityState !== "visible" || !state.alive) return;
    const slide = state.slides[state.current];
    if (slide && !state.watch?.open) startWatch(slide);
  };
  document.addEventListener("visibilitychange", onVisible);

  if (videoId) {
    try {
      const v = await api("GET", `/api/v1/videos/${encodeURIComponent(videoId)}`);
      state.seen.add(v.id);
      addSlide(v);
    } catch (e) {
      status.replaceChildren(h("div", { class: "card failure", role: "alert" },
        h("p", {}, e instanceof ApiError && e.status === 404
          ? "This video is not available: it may have been deleted or is still processing."
          : `Could not load the video: ${e.message}`)));
    }
  }
  await loadMore();

  return () => {
    state.alive = false;
    clearTimeout(settleTimer);
    endWatch();
    observer.disconnect();
    scroller.removeEventListener("wheel", onWheel);
    document.removeEventListener("keydown", onKey);
    document.removeEventListener("visibilitychange", onVisible);
    unHide();
    for (const slide of state.slides) dropPlayer(slide);
  };
}
