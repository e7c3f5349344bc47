// harness.js — what every browser test needs: a real `reel serve` on a free
// loopback port with its own temporary data directory and seeded content,
// and Debian's chromium driven by playwright-core, with console errors and
// page errors collected so a test can fail on them.
//
// The binary is $REEL_BIN (the Makefile points it at the test build), else
// build/reel. The config is config/reel.ini with test overrides (cheap
// argon2, no rate limits, web_root = this repository's web/), like the
// end-to-end tests' conftest.py.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const REEL_BIN = process.env.REEL_BIN || join(ROOT, "build", "reel");
export const SHOTS = join(ROOT, "tests", "browser", "screenshots");
export const CHROMIUM = process.env.CHROMIUM ||
  ["/usr/lib/chromium/chromium", "/usr/bin/chromium"].find((p) => existsSync(p));

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };
export const PASSWORD = "correct horse battery";
export const OPERATOR_PASSWORD = "operator-password";

const OVERRIDES = {
  security: { argon2_ops: "1", argon2_mem: "8k" },
  media: { x264_preset: "ultrafast" },
  limits: { rate_ip_per_s: "0", rate_token_per_s: "0" },
  server: { threads: "2", web_root: join(ROOT, "web") },
  log: { requests: "off" },
};

// config/reel.ini with OVERRIDES applied (keys replaced in place, or added
// at the end of their section).
export function makeConfig(overrides = OVERRIDES) {
  const out = [];
  let section = null;
  const done = new Set();
  const flush = (sec) => {
    for (const [k, v] of Object.entries(overrides[sec] || {})) {
      if (!done.has(`${sec}.${k}`)) out.push(`${k} = ${v}`);
      done.add(`${sec}.${k}`);
    }
  };
  for (const line of readFileSync(join(ROOT, "config", "reel.ini"), "utf8").split("\n")) {
    const sec = line.match(/^\[(.+)\]\s*$/);
    if (sec) {
      flush(section);
      section = sec[1];
      out.push(line);
      continue;
    }
    const key = line.match(/^([A-Za-z0-9_]+)\s*=/);
    if (key && overrides[section]?.[key[1]] !== undefined) {
      out.push(`${key[1]} = ${overrides[section][key[1]]}`);
      done.add(`${section}.${key[1]}`);
      continue;
    }
    out.push(line);
  }
  flush(section);
  return `${out.join("\n")}\n`;
}

function run(args, input) {
  const r = spawnSync(REEL_BIN, args, { input, encoding: "utf8", timeout: 300000 });
  if (r.status !== 0) throw new Error(`reel ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

// A seeded server. seed: {users, videos}; with media, the videos are real
// clips (short ones: `reel seed` transcodes them like uploads), else ready
// records without media; operators: [{region, role, username}].
export class Reel {
  constructor({ users = 6, videos = 12, media = false, operators = [] } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), "reel-browser-"));
    this.data = join(this.dir, "data");
    this.config = join(this.dir, "reel.ini");
    writeFileSync(this.config, makeConfig());
    const kind = media ? ["--max-seconds", "8"] : ["--no-media"];
    this.seed = JSON.parse(run(["seed", "--config", this.config, "--data", this.data, "--users", String(users),
      "--videos", String(videos), "--seed", "7", "--json", ...kind]));
    for (const op of operators) {
      run(["operator", "add", "--config", this.config, "--data", this.data, "--region", op.region,
        "--role", op.role, "--username", op.username], `${OPERATOR_PASSWORD}\n`);
    }
  }

  start() {
    return new Promise((resolveStart, reject) => {
      this.log = [];
      this.proc = spawn(REEL_BIN, ["serve", "--config", this.config, "--data", this.data, "--listen", "127.0.0.1:0"],
        { cwd: this.dir, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      const timer = setTimeout(() => reject(new Error(`reel did not start:\n${this.log.join("")}`)), 30000);
      this.proc.stderr.on("data", (d) => {
        this.log.push(String(d));
        if (this.log.length > 2000) this.log.splice(0, 1000);
      });
      this.proc.stdout.on("data", (d) => {
        out += d;
        const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
        if (m && !this.base) {
          this.base = m[1];
          clearTimeout(timer);
          resolveStart(this);
        }
      });
      this.proc.on("exit", (code) => {
        this.exitCode = code;
        if (!this.base) {
          clearTimeout(timer);
          reject(new Error(`reel exited ${code}:\n${this.log.join("")}`));
        }
      });
    });
  }

  // Stops with SIGTERM; resolves with the exit code (0 expected: under
  // ASan a leak or error at shutdown makes it non-zero).
  stop() {
    if (!this.proc || this.exitCode != null) return Promise.resolve(this.exitCode);
    return new Promise((res) => {
      this.proc.on("exit", (code) => res(code));
      this.proc.kill("SIGTERM");
    });
  }

  cleanup() {
    rmSync(this.dir, { recursive: true, force: true });
  }

  // A direct API call (test setup and checks), as a seeded user or anonymous.
  async api(method, path, { token, body } = {}) {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  }
}

// Playwright's launch() already runs chromium with a fresh temporary
// --user-data-dir (and refuses one passed in args), removed at close.
export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}

// A page whose console errors, page errors and failed requests are collected
// in page.problems; assertClean(page) fails the test on any. Chromium also
// logs every HTTP error answer as a console error ("Failed to load
// resource"); those are checked more precisely through the responses: an
// answer >= 400 is a problem unless the test said it provokes it with
// page.expectFailure(urlRegex, status) — and such a test then checks that
// the user was shown a readable message.
export async function newPage(browser, reel, { viewport = PHONE, touch = true } = {}) {
  const context = await browser.newContext({
    viewport, hasTouch: touch, isMobile: false, deviceScaleFactor: 1, baseURL: reel.base,
    permissions: ["clipboard-read", "clipboard-write"],
  });
  const page = await context.newPage();
  page.problems = [];
  page.expected = [];
  page.expectFailure = (url, status) => page.expected.push({ url, status });
  const expected = (url, status) => page.expected.some((e) => e.url.test(url) && (e.status == null || e.status === status));
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const text = msg.text();
    if (/^Failed to load resource: the server responded with a status of \d+/.test(text)) return;
    // A connection the test breaks on purpose (expectFailure(url, 0)).
    if (/^Failed to load resource: net::/.test(text) && expected(msg.location()?.url || "", 0)) return;
    page.problems.push(`console.error: ${text}`);
  });
  page.on("pageerror", (err) => page.problems.push(`pageerror: ${err.message}`));
  page.on("response", (res) => {
    if (res.status() >= 400 && !expected(res.url(), res.status())) {
      page.problems.push(`HTTP ${res.status()} ${res.request().method()} ${res.url()}`);
    }
  });
  page.on("requestfailed", (req) => {
    const why = req.failure()?.errorText || "";
    // Media elements cancel range requests when a player is dropped.
    if (why.includes("ERR_ABORTED") || expected(req.url(), 0)) return;
    page.problems.push(`request failed: ${req.method()} ${req.url()} ${why}`);
  });
  return page;
}

export function assertClean(page) {
  if (!page) return;
  if (page.problems.length) throw new Error(`browser problems:\n${page.problems.join("\n")}`);
}

export async function screenshot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  const { width } = page.viewportSize();
  await page.screenshot({ path: join(SHOTS, `${name}-${width <= 500 ? "phone" : "desktop"}.png`) });
}

// Makes a small vertical test video with the Debian ffmpeg program: a moving
// test pattern with a tone, H.264/AAC in MP4. Returns its path.
export function makeVideo(dir, { seconds = 3, width = 360, height = 640, name = "clip.mp4" } = {}) {
  const path = join(dir, name);
  const r = spawnSync("ffmpeg", ["-v", "error", "-y",
    "-f", "lavfi", "-i", `testsrc2=size=${width}x${height}:rate=25:duration=${seconds}`,
    "-f", "lavfi", "-i", `sine=frequency=440:duration=${seconds}`,
    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
    "-movflags", "+faststart", path], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  return path;
}

// Signs up through the API (fast) and stores the token in the page's
// localStorage, so the page starts signed in.
export async function signUpViaApi(reel, username, country = "DE") {
  const r = await reel.api("POST", "/api/v1/accounts",
    { body: { username, password: PASSWORD, email: `${username}@example.com`, country } });
  if (r.status !== 201) throw new Error(`sign up ${username}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function useToken(page, token) {
  // Once per tab: a later logout or account deletion must stick.
  await page.addInitScript((t) => {
    if (sessionStorage.getItem("test.token-set")) return;
    sessionStorage.setItem("test.token-set", "1");
    localStorage.setItem("reel.token", t);
  }, token);
}

// Waits until the current feed slide's <video> has played at least `seconds`.
export async function waitPlaying(page, seconds = 0.5) {
  await page.waitForFunction((s) => {
    const v = document.querySelector(".slide.current video");
    return v && !v.paused && v.currentTime >= s;
  }, seconds, { timeout: 20000 });
  return page.evaluate(() => {
    const slide = document.querySelector(".slide.current");
    return { id: slide.dataset.videoId, time: slide.querySelector("video").currentTime };
  });
}

// True when the server has no such route (404 "no such resource", or 405 for
// a path that exists with other methods): features merged later are skipped
// with the route's name until then. Probe destructive routes anonymously.
export async function routeMissing(reel, method, path, token) {
  const r = await reel.api(method, path, { token, body: method === "GET" || method === "DELETE" ? undefined : {} });
  return r.status === 405 || (r.status === 404 && r.body?.detail === "no such resource");
}

// Records every event the page posts to /api/v1/events, in order.
export function recordEvents(page) {
  const events = [];
  page.on("request", (req) => {
    if (req.method() === "POST" && new URL(req.url()).pathname === "/api/v1/events") {
      events.push(...(req.postDataJSON()?.events || []));
    }
  });
  return events;
}

// Makes the page believe it was hidden (tab switched, phone locked): the
// client must close the current watch and flush its events.
export async function hidePage(page) {
  await page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
}

export async function showPage(page) {
  await page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
}
