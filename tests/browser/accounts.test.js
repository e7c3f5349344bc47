// Accounts, profiles, search and privacy in a real browser against a real
// `reel serve`: sign up through the form (the country picker shows where the
// data will live), a refused sign-up shows why, log out and in, edit the
// profile, search and hashtag pages, the privacy page, export and deletion.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  assertClean, DESKTOP, launch, newPage, PASSWORD, PHONE, Reel, routeMissing, screenshot, signUpViaApi, useToken,
} from "./harness.js";

let reel;
let browser;

before(async () => {
  reel = new Reel({ users: 4, videos: 8 });
  await reel.start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  const code = await reel?.stop();
  reel?.cleanup();
  assert.equal(code, 0, "reel serve must exit cleanly (ASan/LSan clean)");
});

test("sign up through the form, see the home region, log out and back in", async () => {
  const page = await newPage(browser, reel, { viewport: PHONE });
  await page.goto("/signup");
  await page.getByLabel("Username").fill("web_alice");
  await page.getByLabel("E-mail").fill("web_alice@example.com");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Country you live in").selectOption("DE");
  const residency = page.locator("#residency");
  await assert.doesNotReject(residency.getByText("Your data will live in region “eu”").waitFor());
  assert.match(await residency.innerText(), /eu-ie \(Ireland, primary\).*eu-no \(Norway, replica\)/s);
  await screenshot(page, "signup");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.locator(".nav-profile").waitFor();
  assert.equal(await page.locator(".nav-profile").getAttribute("href"), "/@web_alice");
  const token = await page.evaluate(() => localStorage.getItem("reel.token"));
  const me = await reel.api("GET", "/api/v1/me", { token });
  assert.equal(me.status, 200);
  assert.equal(me.body.username, "web_alice");
  assert.equal(me.body.home_region, "eu");
  assert.equal(me.body.country, "DE");

  // Log out from settings (the header's button is desktop-only), log in again.
  await page.goto("/settings");
  await page.getByRole("button", { name: "Log out" }).click();
  await page.locator(".nav-login").waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem("reel.token")), null);
  assert.equal((await reel.api("GET", "/api/v1/me", { token })).status, 401, "the old token must be revoked");
  page.expectFailure(/\/api\/v1\/sessions$/, 401);
  await page.goto("/login");
  await page.getByLabel("Username").fill("web_alice");
  await page.getByLabel("Password").fill("wrong password");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.locator(".form-error").filter({ hasText: /\w/ }).waitFor();
  assert.match(await page.locator(".form-error").innerText(), /username or (wrong )?password|credentials/i);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.locator(".nav-profile").waitFor();
  assertClean(page);
  await page.context().close();
});

test("a refused sign-up says which field is wrong", async () => {
  const page = await newPage(browser, reel, { viewport: DESKTOP });
  page.expectFailure(/\/api\/v1\/accounts$/, 409);
  page.expectFailure(/\/api\/v1\/accounts$/, 422);
  await page.goto("/signup");
  await page.getByLabel("Username").fill("demo_1"); // taken by the seed
  await page.getByLabel("E-mail").fill("someone@example.com");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Country you live in").selectOption("US");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.locator(".form-error").filter({ hasText: /\w/ }).waitFor();
  assert.match(await page.locator(".form-error").innerText(), /taken|exists|already/i);
  await page.getByLabel("Username").fill("ok_name");
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.locator("#f-password-error").filter({ hasText: /\w/ }).waitFor();
  assert.match(await page.locator("#f-password-error").innerText(), /Password .*8/);
  assert.equal(await page.getByLabel("Password").getAttribute("aria-invalid"), "true");
  await screenshot(page, "signup-error");
  assertClean(page);
  await page.context().close();
});

test("profile, edit profile, followers list, search and hashtag pages", async () => {
  const { user, token } = await signUpViaApi(reel, "web_bob", "US");
  for (const viewport of [PHONE, DESKTOP]) {
    const page = await newPage(browser, reel, { viewport });
    await useToken(page, token);
    await page.goto("/settings");
    await page.getByLabel("Display name").fill("Bob the Builder");
    await page.getByLabel("Bio").fill("I make things.\nSometimes videos.");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Profile saved.").waitFor();
    await screenshot(page, "settings");
    const me = await reel.api("GET", "/api/v1/me", { token });
    assert.equal(me.body.display_name, "Bob the Builder");
    assert.equal(me.body.bio, "I make things.\nSometimes videos.");

    // Someone else's profile: grid of their videos, follow from there.
    const demo = reel.seed.users[0];
    await page.goto(`/@${demo.username}`);
    await page.locator(".grid .tile").first().waitFor();
    const videos = await reel.api("GET", `/api/v1/users/${demo.id}/videos?limit=100`);
    assert.equal(await page.locator(".grid .tile").count(), Math.min(24, videos.body.items.length));
    await screenshot(page, "profile");
    const follow = page.locator(".follow-profile");
    if ((await follow.getAttribute("aria-pressed")) === "true") {
      await follow.click();
      await page.waitForFunction(() => document.querySelector(".follow-profile").getAttribute("aria-pressed") === "false");
    }
    await follow.click();
    await page.waitForFunction(() => document.querySelector(".follow-profile").getAttribute("aria-pressed") === "true");
    const following = await reel.api("GET", `/api/v1/users/${user.id}/following`);
    assert.ok(following.body.items.some((u) => u.id === demo.id), "the follow reached the server");
    await page.getByRole("button", { name: /followers/ }).click();
    await page.locator("dialog .people a", { hasText: "@web_bob" }).waitFor();
    await page.keyboard.press("Escape");
    await page.locator("dialog").waitFor({ state: "detached" });

    // Search: people and hashtags as you type; the query lands in the URL.
    await page.goto("/search");
    await page.getByRole("searchbox").fill("demo");
    await page.locator(".results .people a", { hasText: "@demo_1" }).waitFor();
    assert.match(page.url(), /\/search\?q=demo$/);
    const seeded = await reel.api("GET", `/api/v1/videos/${reel.seed.videos[0]}`);
    const tag = seeded.body.hashtags[0];
    assert.ok(tag, "the seeded videos carry hashtags");
    {
      await page.getByRole("searchbox").fill(`#${tag}`);
      const chip = page.locator(".results .chip", { hasText: `#${tag}` });
      await chip.waitFor();
      await screenshot(page, "search");
      await chip.click();
      await page.waitForURL(`**/tag/${tag}`);
      await page.locator(".grid .tile").first().waitFor();
      const tagVideos = await reel.api("GET", `/api/v1/hashtags/${encodeURIComponent(tag)}/videos?limit=24`);
      assert.equal(await page.locator(".grid .tile").count(), tagVideos.body.items.length);
      await screenshot(page, "hashtag");
    }
    // Unfollow again so the second viewport starts from the same state.
    await page.goto(`/@${demo.username}`);
    await page.locator(".follow-profile[aria-pressed=true]").click();
    await page.waitForFunction(() => document.querySelector(".follow-profile").getAttribute("aria-pressed") === "false");
    assertClean(page);
    await page.context().close();
  }
});

test("an unknown profile and an unknown page say so", async () => {
  const page = await newPage(browser, reel, { viewport: PHONE });
  page.expectFailure(/\/api\/v1\/users\/@nobody_here$/, 404);
  await page.goto("/@nobody_here");
  await page.getByText("There is no user @nobody_here.").waitFor();
  // A path the client does not know, reached inside the app.
  await page.evaluate(() => {
    history.pushState(null, "", "/nowhere/at/all");
    dispatchEvent(new PopStateEvent("popstate"));
  });
  await page.getByRole("heading", { name: "Page not found" }).waitFor();
  assertClean(page);
  await page.context().close();
});

let carol;

test("privacy page: where my data lives", async () => {
  carol = await signUpViaApi(reel, "web_carol", "FR");
  const page = await newPage(browser, reel, { viewport: PHONE });
  await useToken(page, carol.token);
  await page.goto("/privacy");
  await page.locator(".home-region").waitFor();
  assert.equal(await page.locator(".home-region").innerText(), "eu");
  assert.match(await page.locator(".sites").innerText(), /eu-ie — Ireland, primary copy[\s\S]*eu-no — Norway, replica/);
  assert.match(await page.locator("main").innerText(), /grace period/i);
  await screenshot(page, "privacy");
  await page.setViewportSize(DESKTOP);
  await screenshot(page, "privacy");
  assertClean(page);
  await page.context().close();
});

test("privacy page: download my data", async (t) => {
  const { user, token } = carol;
  if (await routeMissing(reel, "GET", "/api/v1/me/export", token)) {
    t.skip("GET /api/v1/me/export is not on this server yet (data sovereignty branch)");
    return;
  }
  const page = await newPage(browser, reel, { viewport: PHONE });
  await useToken(page, token);
  // A comment, so the export has something of ours to contain.
  const video = reel.seed.videos[0];
  await reel.api("POST", `/api/v1/videos/${video}/comments`, { token, body: { text: "exported words" } });
  await page.goto("/privacy");
  const downloadP = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download my data" }).click();
  const download = await downloadP;
  assert.match(download.suggestedFilename(), /^reel-data-web_carol-\d{4}-\d\d-\d\d\.json$/);
  const chunks = [];
  for await (const c of await download.createReadStream()) chunks.push(c);
  const text = Buffer.concat(chunks).toString("utf8");
  assert.equal(typeof JSON.parse(text), "object");
  assert.ok(text.includes(user.id) && text.includes("web_carol@example.com"), "the export holds my account");
  assert.ok(text.includes("exported words"), "the export holds my comment");
  assert.ok(!text.includes("demo_1@"), "nothing of anyone else");
  await page.getByText(/Your data is ready/).waitFor();
  assertClean(page);
  await page.context().close();
});

test("privacy page: delete my account", async (t) => {
  const { token } = carol;
  // Asked anonymously: with the token, the probe itself would delete the account.
  if (await routeMissing(reel, "DELETE", "/api/v1/me")) {
    t.skip("DELETE /api/v1/me is not on this server yet (data sovereignty branch)");
    return;
  }
  const page = await newPage(browser, reel, { viewport: PHONE });
  await useToken(page, token);
  await page.goto("/privacy");
  await page.locator(".delete-form").waitFor({ timeout: 5000 }).catch(async (e) => {
    throw new Error(`no delete form: ${await page.locator("main").innerText()} ${page.problems}`);
  });
  await page.getByRole("button", { name: "Delete my account" }).click();
  await page.getByText("The username does not match.").waitFor();
  await page.getByLabel(/Type your username/).fill("web_carol");
  await page.getByRole("button", { name: "Delete my account" }).click();
  await page.getByText(/Your account is deactivated/).waitFor();
  await page.locator(".nav-login").waitFor();
  assert.equal((await reel.api("GET", "/api/v1/me", { token })).status, 401, "the token no longer works");
  assert.equal((await reel.api("GET", "/api/v1/users/@web_carol")).status, 404, "the profile is gone");
  assertClean(page);
  await page.context().close();
});
