// The operators' dashboard and upload in a real browser against a real
// `reel serve`: an EU custodian sees active-user charts drawn from real
// engagement, trending videos and hashtags, and the audit log verified; a
// plain user is refused with a message. Upload: a generated video goes up
// with a progress bar, is processed, and plays; a file that is not a video
// is refused with a readable reason.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  assertClean, DESKTOP, launch, makeVideo, newPage, OPERATOR_PASSWORD, PHONE, Reel, routeMissing, screenshot,
  signUpViaApi, useToken,
} from "./harness.js";

let reel;
let browser;
let files;

before(async () => {
  reel = new Reel({ users: 4, videos: 8, operators: [{ region: "eu", role: "custodian", username: "op_eu" }] });
  await reel.start();
  browser = await launch();
  files = mkdtempSync(join(tmpdir(), "reel-upload-"));
});

after(async () => {
  await browser?.close();
  const code = await reel?.stop();
  reel?.cleanup();
  if (files) rmSync(files, { recursive: true, force: true });
  assert.equal(code, 0, "reel serve must exit cleanly (ASan/LSan clean)");
});

async function operatorToken() {
  const r = await reel.api("POST", "/api/v1/sessions", { body: { username: "op_eu", password: OPERATOR_PASSWORD } });
  assert.equal(r.status, 201);
  return r.body.token;
}

test("operators' dashboard: active users charts, trending, audit log verified", async () => {
  // Engagement from EU viewers, so the charts have something to draw.
  const video = reel.seed.videos[0];
  for (const name of ["dash_v1", "dash_v2", "dash_v3"]) {
    const { token } = await signUpViaApi(reel, name, "DE");
    const r = await reel.api("POST", "/api/v1/events", { token, body: { events: [
      { type: "impression", video_id: video }, { type: "play", video_id: video },
      { type: "watch", video_id: video, watched_ms: 9000 }] } });
    assert.equal(r.status, 202);
    await reel.api("PUT", `/api/v1/videos/${video}/like`, { token });
  }
  const token = await operatorToken();
  let dau = 0;
  for (let i = 0; i < 50 && dau < 3; i++) {
    const r = await reel.api("GET", "/api/v1/admin/stats/active-users?region=eu&period=day", { token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    dau = r.body.active_users;
    if (dau < 3) await new Promise((res) => setTimeout(res, 200));
  }
  assert.ok(dau >= 3, `the stats consumer counted the viewers (${dau})`);

  for (const viewport of [DESKTOP, PHONE]) {
    const page = await newPage(browser, reel, { viewport });
    await useToken(page, token);
    await page.goto("/admin");
    const periods = page.locator("figure.chart-periods svg.bar-chart");
    await periods.waitFor();
    // The bars are the server's numbers: the daily bar's label is today's count.
    const table = await page.locator("figure.chart-periods table tbody tr").allInnerTexts();
    assert.equal(table.length, 3);
    assert.match(table[0], new RegExp(`Daily\\s+${dau}`));
    assert.equal(await periods.locator("rect.bar").count(), 3);
    const heights = await periods.locator("rect.bar").evaluateAll((rs) => rs.map((r) => Number(r.getAttribute("height"))));
    assert.ok(heights.every((hgt) => hgt > 0), `every period has a visible bar: ${heights}`);
    // The 30-day line ends at today's count.
    const daily = page.locator("figure.chart-daily svg.line-chart");
    await daily.waitFor();
    assert.equal(await daily.locator("circle.dot").count(), 30);
    const last = await page.locator("figure.chart-daily table tbody tr").last().innerText();
    assert.match(last, new RegExp(`\\s${dau}$`));
    // Every region's day and month counts.
    const regions = page.locator("figure.chart-regions svg.bar-chart rect.bar");
    assert.equal(await regions.count(), 6);
    // Trending: the watched and liked video leads.
    const top = page.locator(".trending-videos li").first();
    await top.waitFor();
    assert.equal(await top.locator("a").getAttribute("href"), `/v/${video}`);
    // The audit log: verified intact, this very view recorded.
    const verify = page.locator(".verify");
    await verify.waitFor();
    assert.equal(await verify.getAttribute("data-intact"), "true");
    assert.match(await verify.innerText(), /Verified: the log is intact/);
    // The dashboard's own reads are the newest records (they run in parallel).
    const rows = await page.locator("table.audit tbody tr").allInnerTexts();
    assert.ok(rows.slice(0, 8).some((r) => /audit\.read/.test(r) && /allowed/.test(r)), rows.slice(0, 8).join("\n"));
    assert.ok(rows.some((r) => /stats\.read/.test(r)), "the stats reads are recorded too");
    await screenshot(page, "admin");
    assertClean(page);
    await page.context().close();
  }
});

test("the dashboard refuses a plain user with a message", async () => {
  const { token } = await signUpViaApi(reel, "dash_plain", "DE");
  const page = await newPage(browser, reel, { viewport: PHONE });
  page.expectFailure(/\/api\/v1\/admin\//, 403);
  await useToken(page, token);
  await page.goto("/admin");
  await page.locator(".verify, .error[role=alert]").first().waitFor();
  const alerts = await page.locator(".error[role=alert]").allInnerTexts();
  assert.ok(alerts.length >= 3, alerts.join("\n"));
  for (const a of alerts) assert.match(a, /You may not see .*: .+/);
  assert.equal(await page.locator("svg.chart").count(), 0);
  assertClean(page);
  await page.context().close();
});

test("upload a generated video: progress, processing, ready, and it plays", async () => {
  const { user, token } = await signUpViaApi(reel, "uploader", "DE");
  assert.ok(!(await routeMissing(reel, "POST", "/api/v1/videos", token)), "the upload routes exist");
  const clip = makeVideo(files, { seconds: 3 });
  const page = await newPage(browser, reel, { viewport: PHONE });
  await useToken(page, token);
  await page.goto("/upload");
  await page.getByLabel("Video file").setInputFiles(clip);
  await page.getByLabel("Caption").fill("Test pattern at dawn #browsertest #Reel");
  await page.getByText("Hashtags: #browsertest #reel").waitFor();
  await screenshot(page, "upload");
  const progress = [];
  await page.exposeFunction("__progress", (v) => progress.push(v));
  await page.evaluate(() => {
    const bar = document.getElementById("upload-progress");
    new MutationObserver(() => window.__progress(bar.value)).observe(bar, { attributes: true, attributeFilter: ["value"] });
  });
  await page.getByRole("button", { name: "Upload" }).click();
  await page.locator("[data-status=ready]").waitFor({ timeout: 120000 });
  assert.ok(progress.length > 0 && progress.at(-1) === 100, `progress reached 100: ${progress}`);
  const preview = page.locator(".upload-result video");
  await page.waitForFunction(() => {
    const v = document.querySelector(".upload-result video");
    return v && !v.paused && v.currentTime > 0.3;
  }, null, { timeout: 20000 });
  assert.match(await preview.getAttribute("src"), /^\/media\//);
  await screenshot(page, "upload-ready");
  const videos = (await reel.api("GET", `/api/v1/users/${user.id}/videos`, { token })).body.items;
  assert.equal(videos.length, 1);
  assert.equal(videos[0].status, "ready");
  assert.deepEqual(videos[0].hashtags, ["browsertest", "reel"]);
  assertClean(page);
  await page.context().close();
});

test("uploading a file that is not a video says why", async () => {
  const { token } = await signUpViaApi(reel, "uploader_bad", "DE");
  assert.ok(!(await routeMissing(reel, "POST", "/api/v1/videos", token)), "the upload routes exist");
  const fake = join(files, "notes.mp4");
  writeFileSync(fake, "these are my notes, not a video\n".repeat(50));
  const page = await newPage(browser, reel, { viewport: DESKTOP });
  page.expectFailure(/\/api\/v1\/(videos|uploads)/, 422);
  await useToken(page, token);
  await page.goto("/upload");
  await page.getByLabel("Video file").setInputFiles(fake);
  await page.getByRole("button", { name: "Upload" }).click();
  const error = page.locator(".upload-error");
  await error.filter({ hasText: /\w/ }).waitFor({ timeout: 60000 });
  assert.match(await error.innerText(), /video/i);
  await screenshot(page, "upload-error");
  assertClean(page);
  await page.context().close();
});

test("a resumable upload survives a broken connection", async () => {
  const { user, token } = await signUpViaApi(reel, "uploader_resume", "DE");
  assert.ok(!(await routeMissing(reel, "POST", "/api/v1/uploads", token)), "the upload routes exist");
  // Big enough for several pieces of the client's CHUNK (4 MiB).
  const clip = makeVideo(files, { seconds: 12, width: 720, height: 1280, name: "big.mp4" });
  const page = await newPage(browser, reel, { viewport: PHONE });
  page.expectFailure(/\/api\/v1\/uploads\//, 0);
  await useToken(page, token);
  let cut = 0;
  await page.route(/\/api\/v1\/uploads\/[^/]+$/, async (route) => {
    if (route.request().method() === "PATCH" && cut === 0 && Number(route.request().headers()["upload-offset"]) > 0) {
      cut++;
      await route.abort("connectionreset");
    } else {
      await route.continue();
    }
  });
  await page.goto("/upload");
  await page.getByLabel("Video file").setInputFiles(clip);
  await page.getByRole("button", { name: "Upload" }).click();
  await page.locator("[data-status=ready], [data-status=processing]").first().waitFor({ timeout: 120000 });
  assert.equal(cut, 1, "one piece was cut off");
  const videos = (await reel.api("GET", `/api/v1/users/${user.id}/videos`, { token })).body.items;
  assert.equal(videos.length, 1);
  assertClean(page);
  await page.context().close();
});
