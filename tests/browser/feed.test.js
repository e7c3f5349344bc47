// The feed in a real browser against a real `reel serve` with seeded
// content: moving through it with keys, wheel and a touch swipe (and the
// current <video> really playing), the events the page reports matching
// what the user did, like (button and double tap), comments, share, follow
// and the Following tab.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  assertClean, DESKTOP, hidePage, launch, newPage, PHONE, recordEvents, Reel, screenshot, signUpViaApi, useToken,
  waitPlaying,
} from "./harness.js";

let reel;
let browser;
let hasMedia = false;
const NO_MEDIA = "`reel seed` makes playable clips (renditions served from /media/{video_id}/{file})";

before(async () => {
  reel = new Reel({ users: 5, videos: 14, media: true });
  await reel.start();
  browser = await launch();
  const v = await reel.api("GET", `/api/v1/videos/${reel.seed.videos[0]}`);
  hasMedia = (v.body.renditions || []).length > 0;
});

after(async () => {
  await browser?.close();
  const code = await reel?.stop();
  reel?.cleanup();
  assert.equal(code, 0, "reel serve must exit cleanly (ASan/LSan clean)");
});

const currentId = (page) => page.evaluate(() => document.querySelector(".slide.current")?.dataset.videoId);

async function waitCurrentChange(page, from) {
  await page.waitForFunction((id) => {
    const cur = document.querySelector(".slide.current");
    return cur && cur.dataset.videoId !== id;
  }, from, { timeout: 10000 }).catch(async (e) => {
    const state = await page.evaluate(() => [document.querySelector(".slide.current")?.dataset.videoId,
      document.querySelector(".feed")?.scrollTop, document.querySelectorAll(".slide").length, location.pathname]);
    throw new Error(`the current video did not change from ${from}: ${JSON.stringify(state)}: ${e.message}`);
  });
  return currentId(page);
}

// A finger swipe: touch events as a touch screen sends them (start, a move
// every frame, end). Chromium's Input.synthesizeScrollGesture does not move
// this scroll-snap container in headless mode; raw touch input does.
async function swipeUp(page) {
  const cdp = await page.context().newCDPSession(page);
  const { width, height } = page.viewportSize();
  // Past half a slide, so it moves on even without a fling (the browser
  // decides the fling from timing, which a loaded machine blurs).
  const x = Math.round(width / 3), y0 = Math.round(height * 0.8), dist = Math.round(height * 0.6);
  await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [{ x, y: y0 }] });
  for (let i = 1; i <= 10; i++) {
    await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [{ x, y: y0 - Math.round((dist * i) / 10) }] });
    await page.waitForTimeout(16);
  }
  await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  await cdp.detach();
}

test("swipe through the feed with keys, wheel and touch; the current video plays", async () => {
  assert.ok(hasMedia, NO_MEDIA);
  const { token } = await signUpViaApi(reel, "feed_swiper");
  const page = await newPage(browser, reel, { viewport: PHONE });
  await useToken(page, token);
  await page.goto("/");
  const first = await waitPlaying(page, 0.3);
  // A muted autoplay that really advances, with the next video preloading.
  const t0 = first.time;
  await page.waitForTimeout(600);
  const again = await page.evaluate(() => document.querySelector(".slide.current video").currentTime);
  assert.ok(again > t0, `currentTime advances (${t0} -> ${again})`);
  assert.equal(await page.evaluate(() => document.querySelector(".slide.current video").muted), true);
  assert.equal(await page.evaluate(() => document.querySelector(".slide.current + .slide video")?.preload), "auto");
  await screenshot(page, "feed");

  const seen = [first.id];
  await page.keyboard.press("ArrowDown");
  seen.push(await waitCurrentChange(page, seen.at(-1)));
  const byKey = await waitPlaying(page, 0.3);
  assert.equal(byKey.id, seen.at(-1));

  await page.mouse.move(200, 400);
  await page.mouse.wheel(0, 240);
  seen.push(await waitCurrentChange(page, seen.at(-1)));
  await waitPlaying(page, 0.3);

  await swipeUp(page);
  seen.push(await waitCurrentChange(page, seen.at(-1)));
  const bySwipe = await waitPlaying(page, 0.3);
  assert.equal(bySwipe.id, seen.at(-1));
  // One video per gesture: consecutive slides, each shown once.
  const order = await page.evaluate(() => [...document.querySelectorAll(".slide[data-video-id]")].map((s) => s.dataset.videoId));
  assert.deepEqual(seen, order.slice(0, 4));
  // Only neighbours hold a player; the first video's was released.
  assert.equal(await page.locator(".slide").first().locator("video").count(), 0);

  // Back up with the key; the tap turns the sound on and stays on.
  await page.keyboard.press("ArrowUp");
  assert.equal(await waitCurrentChange(page, seen[3]), seen[2]);
  await page.locator(".slide.current .stage").click({ position: { x: 100, y: 200 } });
  await page.waitForFunction(() => document.querySelector(".slide.current video")?.muted === false);
  assert.equal(await page.locator(".slide.current .mute").getAttribute("aria-pressed"), "true");
  assertClean(page);
  await page.context().close();
});

test("the events the page sends match what the user did", async () => {
  const { token } = await signUpViaApi(reel, "feed_events");
  const page = await newPage(browser, reel, { viewport: PHONE });
  const events = recordEvents(page);
  const accepted = [];
  page.on("response", (r) => {
    if (new URL(r.url()).pathname === "/api/v1/events") accepted.push(r.status());
  });
  await useToken(page, token);
  await page.goto("/");
  await page.locator(".slide.current").waitFor();
  const ids = [await currentId(page)];
  let watched = 0;
  if (hasMedia) {
    // Watch the first one for more than two seconds: a "watch".
    await page.waitForFunction(() => document.querySelector(".slide.current video")?.currentTime > 2.3, null, { timeout: 20000 });
    watched = await page.evaluate(() => document.querySelector(".slide.current video").currentTime * 1000);
  }
  await page.keyboard.press("ArrowDown");
  ids.push(await waitCurrentChange(page, ids[0]));
  if (hasMedia) await waitPlaying(page, 0.1); // then leave it at once: a "skip"
  await page.mouse.move(200, 400);
  await page.mouse.wheel(0, 240);
  ids.push(await waitCurrentChange(page, ids[1]));
  if (hasMedia) await waitPlaying(page, 0.1);
  await page.locator(".slide.current").getByRole("button", { name: "Not interested" }).click();
  ids.push(await waitCurrentChange(page, ids[2]));
  if (hasMedia) await waitPlaying(page, 0.1);
  // Switching away from the tab closes the current showing and flushes.
  const flushed = page.waitForRequest((r) => new URL(r.url()).pathname === "/api/v1/events");
  await hidePage(page);
  await flushed;
  await page.waitForFunction(() => true);
  await page.waitForTimeout(300);

  const got = events.map((e) => [e.type, e.video_id]);
  const expected = hasMedia
    ? [["impression", ids[0]], ["play", ids[0]], ["watch", ids[0]],
      ["impression", ids[1]], ["play", ids[1]], ["skip", ids[1]],
      ["impression", ids[2]], ["play", ids[2]], ["not_interested", ids[2]], ["skip", ids[2]],
      ["impression", ids[3]], ["play", ids[3]], ["skip", ids[3]]]
    : [["impression", ids[0]], ["impression", ids[1]], ["impression", ids[2]], ["not_interested", ids[2]],
      ["impression", ids[3]]];
  assert.deepEqual(got, expected);
  for (const e of events) assert.ok(!Number.isNaN(Date.parse(e.at)), "each event carries its time");
  if (hasMedia) {
    const watch = events.find((e) => e.type === "watch");
    assert.ok(Math.abs(watch.watched_ms - watched) < 1000, `watched_ms ${watch.watched_ms} ~ ${watched}`);
    for (const e of events.filter((x) => x.type === "skip")) assert.ok(e.watched_ms < 2000, JSON.stringify(e));
  }
  assert.ok(accepted.length > 0 && accepted.every((s) => s === 202), `events accepted: ${accepted}`);
  // The server took them: For You no longer offers what this user was shown.
  const feed = await reel.api("GET", "/api/v1/feed/foryou?limit=100", { token });
  for (const id of ids) assert.ok(!feed.body.items.some((v) => v.id === id), `${id} not offered again`);
  assertClean(page);
  await page.context().close();
});

test("the player picks the rendition that fits the screen", async () => {
  assert.ok(hasMedia, NO_MEDIA);
  const [a] = reel.seed.videos;
  const video = (await reel.api("GET", `/api/v1/videos/${a}`)).body;
  const heights = video.renditions.map((r) => r.height).sort((x, y) => x - y);
  const pick = async (viewport) => {
    const page = await newPage(browser, reel, { viewport });
    await page.goto(`/v/${a}`);
    const player = page.locator(`.slide[data-video-id="${a}"] video`);
    await player.waitFor({ state: "attached" });
    const src = await player.getAttribute("src");
    assertClean(page);
    await page.context().close();
    const r = video.renditions.find((x) => x.url === src);
    assert.ok(r, `the player's ${src} is one of the renditions`);
    return r.height;
  };
  // A small window: the smallest rendition at least 90% of its height.
  const small = await pick({ width: 240, height: 380 });
  assert.equal(small, heights.find((h) => h >= 380 * 0.9), `small window got ${small} px high of ${heights}`);
  // A phone (844 CSS px): the next rendition up.
  const phone = await pick(PHONE);
  assert.equal(phone, heights.find((h) => h >= PHONE.height * 0.9) ?? heights[heights.length - 1],
    `phone got ${phone} px high of ${heights}`);
  assert.ok(phone > small, `${phone} px high on a phone, ${small} in a small window`);
});

test("like with the button and a double tap, comment and delete it", async () => {
  const { user, token } = await signUpViaApi(reel, "feed_liker");
  const page = await newPage(browser, reel, { viewport: PHONE });
  await useToken(page, token);
  const [a, b] = reel.seed.videos;
  const before = (await reel.api("GET", `/api/v1/videos/${a}`, { token })).body;
  await page.goto(`/v/${a}`);
  const slide = page.locator(`.slide[data-video-id="${a}"]`);
  const like = slide.getByRole("button", { name: "Like" });
  await like.waitFor();
  assert.equal(await like.getAttribute("aria-pressed"), "false");
  const liked = page.waitForResponse((r) => r.url().endsWith(`/api/v1/videos/${a}/like`) && r.request().method() === "PUT");
  await like.click();
  assert.equal((await liked).status(), 204);
  await page.waitForFunction((id) => document.querySelector(`.slide[data-video-id="${id}"] .like`).getAttribute("aria-pressed") === "true", a);
  assert.equal(await slide.locator(".like .n").innerText(), String(before.likes + 1));
  let after = (await reel.api("GET", `/api/v1/videos/${a}`, { token })).body;
  assert.equal(after.liked_by_me, true);
  assert.equal(after.likes, before.likes + 1);

  // Double tap on another video likes it.
  await page.goto(`/v/${b}`);
  const stage = page.locator(`.slide[data-video-id="${b}"] .stage`);
  await stage.waitFor();
  const tapLiked = page.waitForResponse((r) => r.url().endsWith(`/api/v1/videos/${b}/like`) && r.request().method() === "PUT");
  await stage.dblclick({ position: { x: 120, y: 200 } });
  assert.equal((await tapLiked).status(), 204);
  await page.waitForFunction((id) => document.querySelector(`.slide[data-video-id="${id}"] .like`).getAttribute("aria-pressed") === "true", b);
  assert.equal((await reel.api("GET", `/api/v1/videos/${b}`, { token })).body.liked_by_me, true);

  // Comments: the drawer, write one, see it, delete it.
  await page.locator(`.slide[data-video-id="${b}"]`).getByRole("button", { name: "Comments" }).click();
  const drawer = page.getByRole("dialog");
  await drawer.waitFor();
  await drawer.getByLabel("Add a comment").fill("What a view! #nice");
  await drawer.getByRole("button", { name: "Post" }).click();
  const mine = drawer.locator(".comment", { hasText: "What a view! #nice" });
  await mine.waitFor();
  await screenshot(page, "comments");
  const comments = (await reel.api("GET", `/api/v1/videos/${b}/comments?limit=100`)).body.items;
  const posted = comments.find((c) => c.text === "What a view! #nice");
  assert.ok(posted && posted.author.id === user.id, "the comment reached the server");
  assert.match(await drawer.locator("h2").innerText(), new RegExp(`Comments \\(${comments.length}\\)`));
  // An empty comment is refused in the page with a message.
  await drawer.getByRole("button", { name: "Post" }).click();
  await drawer.getByText("Write something first.").waitFor();
  await mine.getByRole("button", { name: "Delete comment" }).click();
  await mine.waitFor({ state: "detached" });
  after = (await reel.api("GET", `/api/v1/videos/${b}/comments?limit=100`)).body.items;
  assert.ok(!after.some((c) => c.id === posted.id), "the comment was deleted on the server");
  await page.keyboard.press("Escape");
  await drawer.waitFor({ state: "detached" });
  assert.equal(await page.locator(`.slide[data-video-id="${b}"] .act .n`).nth(1).innerText(), String(after.length));
  assertClean(page);
  await page.context().close();
});

test("share copies the /v/{id} link, counts the share, and the link opens that video", async () => {
  const { token } = await signUpViaApi(reel, "feed_sharer");
  const page = await newPage(browser, reel, { viewport: DESKTOP, touch: false });
  await useToken(page, token);
  const id = reel.seed.videos[2];
  const before = (await reel.api("GET", `/api/v1/videos/${id}`)).body.shares;
  await page.goto(`/v/${id}`);
  await page.locator(`.slide[data-video-id="${id}"]`).getByRole("button", { name: "Share" }).click();
  await page.getByText("Link copied to the clipboard.").waitFor();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(link, `${reel.base}/v/${id}`);
  await page.waitForFunction(async ([vid, n]) => {
    const r = await fetch(`/api/v1/videos/${vid}`);
    return (await r.json()).shares === n + 1;
  }, [id, before]);
  const fresh = await newPage(browser, reel, { viewport: PHONE });
  await fresh.goto(link);
  await fresh.locator(".slide.current").waitFor();
  assert.equal(await currentId(fresh), id);
  assertClean(page);
  assertClean(fresh);
  await fresh.context().close();
  await page.context().close();
});

test("follow a creator from the feed, then the Following tab shows their videos", async () => {
  const { token } = await signUpViaApi(reel, "feed_follower");
  const page = await newPage(browser, reel, { viewport: PHONE });
  await useToken(page, token);
  await page.goto("/following");
  await page.getByText(/No videos yet from people you follow/).waitFor();
  await page.goto("/");
  const slide = page.locator(".slide.current");
  await slide.waitFor();
  const creator = await slide.locator(".creator strong").innerText();
  const follow = slide.locator(".follow");
  await follow.waitFor();
  assert.equal(await follow.innerText(), "Follow");
  await follow.click();
  await page.getByText(`You follow ${creator}.`).waitFor();
  assert.equal(await follow.innerText(), "Following");
  // Every slide of the same creator shows it too.
  for (const other of await page.locator(".slide", { has: page.locator(".creator", { hasText: creator }) }).all()) {
    assert.equal(await other.locator(".follow").innerText(), "Following");
  }
  await page.locator(".feed-tabs").getByRole("link", { name: "Following" }).click();
  await page.waitForURL("**/following");
  await page.locator(".slide.current").waitFor();
  const creators = await page.locator(".slide[data-video-id] .creator strong").allInnerTexts();
  const expected = (await reel.api("GET", "/api/v1/feed/following?limit=8", { token })).body.items;
  assert.ok(expected.length > 0);
  assert.deepEqual(creators, expected.map((v) => `@${v.creator.username}`));
  assert.ok(creators.every((c) => c === creator));
  await screenshot(page, "following");
  await page.setViewportSize(DESKTOP);
  await screenshot(page, "following");
  assertClean(page);
  await page.context().close();
});

test("an anonymous visitor sees the feed and is asked to log in to act", async () => {
  const page = await newPage(browser, reel, { viewport: DESKTOP, touch: false });
  const events = recordEvents(page);
  const assets = [];
  page.on("response", async (r) => {
    const type = r.request().resourceType();
    if (type === "script" || type === "stylesheet") assets.push(r.body().then((b) => [r.url(), b.length]));
  });
  await page.goto("/");
  await page.locator(".slide.current").waitFor();
  // The first screen's budget: under 100 KB of JS+CSS before any video.
  const sizes = await Promise.all(assets);
  const total = sizes.reduce((n, [, len]) => n + len, 0);
  assert.ok(total < 100 * 1024, `first screen JS+CSS is ${total} bytes: ${JSON.stringify(sizes)}`);
  assert.ok(!sizes.some(([url]) => /admin|upload|privacy|profile/.test(url)), "other screens load on demand");
  await screenshot(page, "feed");
  await page.locator(".slide.current").getByRole("button", { name: "Like" }).click();
  await page.getByText("Log in to like videos.").waitFor();
  await page.goto("/following");
  await page.getByText("Log in to see the newest videos of the people you follow.").waitFor();
  assert.deepEqual(events, [], "anonymous visitors are not tracked");
  assertClean(page);
  await page.context().close();
});
