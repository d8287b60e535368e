// Phone media in real headless Chromium through the demo page: a HEIC photo (which Chromium
// cannot display itself), an H.264 MP4 and an HEVC clip shaped like an iPhone's (portrait by its
// track matrix) each show a thumbnail: the HEIC's WebP thumbnail, and each video's poster. A
// screenshot is kept in .local/artifacts/phone.png.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { root, stackEnv } from "../lib/test-env.mjs";

const env = stackEnv();
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

test("a HEIC photo and H.264 and HEVC videos each show a thumbnail in Chromium", { timeout: 180_000 }, async () => {
  const dir = execFileSync("cargo", ["run", "-q", "-p", "devtools", "--bin", "make-fixtures", "--", path.join(root, ".local/fixtures")], { cwd: root, encoding: "utf8" }).trim();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems = [];
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("console", (msg) => { if (msg.type() === "error") problems.push(`console: ${msg.text()}`); });
    await page.goto(env.WEB_URL);
    await page.fill("#user", `phone-${Date.now()}`);
    await page.click("#signin button");
    await page.waitForSelector('body[data-signed-in="true"]');

    // The photo, as an iPhone hands it over (upper-case extension, image/heic).
    await page.selectOption("#kind", "post_image");
    await page.setInputFiles("#files", [path.join(dir, "IMG_0001.HEIC")]);
    await page.waitForFunction(() => [...document.querySelectorAll(".card.ready img")].some((i) => i.complete && i.naturalWidth > 0), null, { timeout: 60_000 });
    const photo = await page.$eval(".card.ready img", (i) => ({ w: i.naturalWidth, h: i.naturalHeight, src: i.src.split("?")[0] }));
    assert.ok(photo.w === 512 && photo.h === 384 && photo.src.endsWith("/w512.webp"), JSON.stringify(photo));

    // Two videos: each card's <video> has a poster that Chromium loads and draws.
    await page.selectOption("#kind", "video");
    await page.setInputFiles("#files", [path.join(dir, "clip.mp4"), path.join(dir, "iphone.mov")]);
    await page.waitForFunction(() => document.querySelectorAll(".card.ready video[poster]").length === 2, null, { timeout: 90_000 });
    const posters = await page.$$eval(".card.ready video[poster]", (vs) => Promise.all(vs.map((v) => new Promise((resolve) => {
      const img = new Image();
      img.onload = () => resolve({ name: v.closest(".card").querySelector(".name").textContent, w: img.naturalWidth, h: img.naturalHeight });
      img.onerror = () => resolve({ name: v.closest(".card").querySelector(".name").textContent, w: 0, h: 0 });
      img.src = v.poster;
    }))));
    const byName = Object.fromEntries(posters.map((p) => [p.name, p]));
    assert.ok(byName["clip.mp4"]?.w > 0 && byName["clip.mp4"].w > byName["clip.mp4"].h, `H.264 poster, landscape: ${JSON.stringify(posters)}`);
    assert.ok(byName["iphone.mov"]?.w > 0 && byName["iphone.mov"].h > byName["iphone.mov"].w, `HEVC poster, portrait: ${JSON.stringify(posters)}`);

    mkdirSync(path.join(root, ".local/artifacts"), { recursive: true });
    await page.screenshot({ path: path.join(root, ".local/artifacts/phone.png"), fullPage: true });
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
