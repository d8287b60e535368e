// The client in real headless Chromium against the local stack: a mixed batch where one file is
// too large for its kind (that file alone fails, with its reason on its row); a multipart video
// cut off mid-upload and resumed after a page reload (only the missing part is sent again); and
// a video that plays and seeks from its presigned URL (Range requests).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { root, stackEnv } from "../lib/test-env.mjs";

const env = stackEnv();
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const fixtures = () => execFileSync("cargo", ["run", "-q", "-p", "devtools", "--bin", "make-fixtures", "--", path.join(root, ".local/fixtures")], { cwd: root, encoding: "utf8" }).trim();

async function withPage(fn) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", "--autoplay-policy=no-user-gesture-required"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const problems = [];
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    await fn(page, problems);
  } finally {
    await browser.close();
  }
}

async function signIn(page, user, query = "") {
  await page.goto(`${env.WEB_URL}/${query}`);
  await page.fill("#user", user);
  await page.click("#signin button");
  await page.waitForSelector('body[data-signed-in="true"]');
}

test("a batch with one file too large for its kind uploads the others and shows that one error", { timeout: 120_000 }, async () => {
  const dir = fixtures();
  const names = [];
  for (let i = 1; i <= 5; i++) {
    copyFileSync(path.join(dir, "photo.jpg"), path.join(dir, `photo-${i}.jpg`));
    names.push(`photo-${i}.jpg`);
  }
  // 3 MB: over the avatar kind's 2 MiB. Its bytes are never sent, so they need not be an image.
  writeFileSync(path.join(dir, "huge.jpg"), Buffer.alloc(3 * 1024 * 1024, 0xff));
  names.splice(2, 0, "huge.jpg");
  await withPage(async (page, problems) => {
    const statuses = [];
    page.on("response", (r) => { if (r.url().endsWith("/v1/uploads")) statuses.push(r.status()); });
    await signIn(page, `batch-${Date.now()}`);
    await page.selectOption("#kind", "avatar");
    await page.setInputFiles("#files", names.map((f) => path.join(dir, f)));
    await page.waitForFunction(() => document.querySelectorAll(".card.ready").length === 5, null, { timeout: 60_000 });
    const rows = await page.$$eval(".progress li", (lis) => lis.map((li) => ({ name: li.querySelector(".name").textContent, failed: li.classList.contains("failed"), error: li.querySelector(".error").textContent, max: Number(li.dataset.max) })));
    assert.equal(rows.length, 6);
    const failed = rows.filter((r) => r.failed);
    assert.deepEqual(failed.map((r) => r.name), ["huge.jpg"]);
    assert.match(failed[0].error, /^too_large: huge\.jpg is 3 MiB; this kind allows at most 2 MiB/, "sizes as people read them");
    assert.ok(rows.filter((r) => !r.failed).every((r) => r.max === 100), JSON.stringify(rows));
    assert.deepEqual(statuses, [201], "one slot request, for the five that fit");
    assert.deepEqual(problems, []);
  });
});

test("the demo page after a mixed batch: empty state by sign-in, rows that clear, errors on their own line, even cards, the user kept across a reload", { timeout: 120_000 }, async () => {
  const dir = fixtures();
  writeFileSync(path.join(dir, "huge.jpg"), Buffer.alloc(3 * 1024 * 1024, 0xff));
  const user = `polish-${Date.now()}`;
  await withPage(async (page, problems) => {
    await page.goto(`${env.WEB_URL}/`);
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    assert.equal(await page.textContent("#empty"), "Sign in to see your media.");
    await signIn(page, user);
    assert.equal(await page.textContent("#empty"), "Nothing yet: drop a few files above.", "the empty state follows sign-in");
    await page.selectOption("#kind", "avatar");
    await page.setInputFiles("#files", ["photo.jpg", "portrait.jpg", "wide.webp", "huge.jpg"].map((f) => path.join(dir, f)));
    await page.waitForFunction(() => document.querySelectorAll(".card.ready").length === 3, null, { timeout: 60_000 });
    await page.waitForFunction(() => [...document.querySelectorAll(".card.ready .thumb img")].every((i) => i.complete && i.naturalWidth > 0));
    const layout = await page.evaluate(() => {
      const box = (el) => el.getBoundingClientRect();
      const failed = document.querySelector(".progress li.failed");
      return {
        name: box(failed.querySelector(".name")),
        error: box(failed.querySelector(".error")),
        thumbs: [...document.querySelectorAll(".card .thumb")].map((t) => box(t).height),
        cards: [...document.querySelectorAll(".card")].map((c) => box(c).height),
      };
    });
    assert.ok(layout.error.top >= layout.name.bottom - 1, `the error sits under the name: ${JSON.stringify(layout)}`);
    assert.ok(layout.error.width > layout.name.width * 1.5, `the error has the row's width: ${JSON.stringify(layout)}`);
    assert.equal(layout.thumbs.length, 3);
    assert.ok(Math.max(...layout.thumbs) - Math.min(...layout.thumbs) < 1, `every picture box is the same height (portrait too): ${layout.thumbs}`);
    assert.ok(Math.max(...layout.cards) - Math.min(...layout.cards) < 1, `no card stretches its row: ${layout.cards}`);
    mkdirSync(path.join(root, ".local/artifacts"), { recursive: true });
    await page.screenshot({ path: path.join(root, ".local/artifacts/demo-batch.png"), fullPage: true });
    await page.click("#clear");
    assert.equal(await page.$$eval(".progress li", (lis) => lis.length), 0, "finished rows are cleared");
    await page.reload();
    await page.waitForSelector('body[data-signed-in="true"]');
    assert.equal(await page.textContent("#who"), `signed in as ${user}`, "the user is kept across a reload");
    await page.waitForFunction(() => document.querySelectorAll(".card.ready").length === 3);
    assert.deepEqual(problems, []);
  });
});

test("a multipart video cut off during a part resumes after a reload, sending only the missing part", { timeout: 180_000 }, async () => {
  const dir = fixtures();
  const file = path.join(dir, "trip.mp4");
  const user = `resume-${Date.now()}`;
  await withPage(async (page, problems) => {
    const puts = [];
    page.on("request", (r) => {
      const m = /[?&]partNumber=(\d+)(&|$)/.exec(r.url());
      if (r.method() === "PUT" && m) puts.push(Number(m[1]));
    });
    // The network drops every attempt at part 3 until the page is reloaded.
    const cut = (route) => route.abort("connectionreset");
    await page.route(/[?&]partNumber=3(&|$)/, cut);
    await signIn(page, user);
    await page.selectOption("#kind", "video");
    await page.setInputFiles("#files", [file]);
    await page.waitForFunction(() => (document.querySelector(".progress li")?.dataset.parts || "").split(",").filter(Boolean).length === 3, null, { timeout: 60_000 });
    const stored = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("lambda-media:upload:")).length);
    assert.equal(stored, 1, "the upload's state is kept by media id");

    await page.unroute(/[?&]partNumber=3(&|$)/, cut);
    puts.length = 0;
    await signIn(page, user);
    assert.match(await page.textContent("#resumable li"), /^trip\.mp4 \(video, 4 parts\) was interrupted/);
    await page.selectOption("#kind", "video");
    await page.setInputFiles("#files", [file]);
    await page.waitForSelector(".card.ready video", { timeout: 60_000 });
    assert.deepEqual(puts, [3], "after the reload only part 3 was sent");
    const media = await page.evaluate(() => document.querySelector(".card.ready").dataset.id);
    assert.ok(media);
    assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("lambda-media:upload:")).length), 0, "finished uploads leave no state");
    assert.equal(await page.$$eval("#resumable li", (lis) => lis.length), 0);
    assert.deepEqual(problems, []);
  });
});

test("a ready video plays and seeks from its presigned URL with Range requests", { timeout: 120_000 }, async () => {
  const dir = fixtures();
  await withPage(async (page, problems) => {
    const ranges = [];
    page.on("request", (r) => { if (r.url().includes(".webm?") || /original\.webm/.test(r.url())) ranges.push(r.headers()["range"] || ""); });
    await signIn(page, `play-${Date.now()}`);
    await page.selectOption("#kind", "video");
    await page.setInputFiles("#files", [path.join(dir, "clip.webm")]);
    await page.waitForSelector(".card.ready video", { timeout: 60_000 });
    const seeked = await page.evaluate(() => new Promise((resolve, reject) => {
      const v = document.querySelector(".card.ready video");
      const go = () => { v.currentTime = 1.5; };
      v.addEventListener("seeked", () => resolve({ time: v.currentTime, duration: v.duration, width: v.videoWidth }), { once: true });
      v.addEventListener("error", () => reject(new Error(`video error ${v.error?.code}`)), { once: true });
      if (v.readyState >= 1) go(); else v.addEventListener("loadedmetadata", go, { once: true });
      setTimeout(() => reject(new Error("no seek within 20 s")), 20_000);
    }));
    assert.ok(Math.abs(seeked.time - 1.5) < 0.2 && seeked.duration > 1.9 && seeked.width === 320, JSON.stringify(seeked));
    assert.ok(ranges.some((r) => r.startsWith("bytes=")), `the player asked for ranges: ${JSON.stringify(ranges)}`);
    assert.deepEqual(problems, []);
  });
});
